"""Whatever text an editor writes, export then import gives back exactly the same catalog."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from shipwith.catalog.files import CatalogError
from shipwith.catalog.models import Tool
from shipwith.catalog.services import catalog_export, catalog_import

printable = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"), max_size=120
)
money = st.decimals(min_value=0, max_value=99_999, places=2, allow_nan=False)


class RoundTrip(TestCase):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        name=printable.filter(lambda s: any(c.isalnum() and c.isascii() for c in s)),
        tagline=printable,
        description=printable,
        amount=money,
        period=st.sampled_from(["month", "year", "once"]),
    )
    def test_export_import_is_lossless(self, name, tagline, description, amount, period):
        document = {
            "categories": [{"slug": "things", "name": "Things"}],
            "tools": [
                {
                    "name": name,
                    "slug": "tool",
                    "category": "things",
                    "tagline": tagline,
                    "description": description,
                    "entry_price": {"kind": "amount", "amount": float(amount), "period": period},
                }
            ],
        }
        path = self._tmp / "in.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        try:
            catalog_import(path=path)
        except CatalogError as exc:  # a name made only of markup is refused, and says so
            assert "field 'name': must not be empty" in str(exc)
            return
        exported = catalog_export()
        (self._tmp / "out.yaml").write_text(exported)

        report = catalog_import(path=self._tmp / "out.yaml")

        assert report.unchanged == ["tool"]
        assert catalog_export() == exported
        assert Tool.objects.get().name

    def setUp(self):
        import tempfile
        from pathlib import Path

        self._dir = tempfile.TemporaryDirectory()
        self._tmp = Path(self._dir.name)

    def tearDown(self):
        self._dir.cleanup()
