"""Every bad catalog file leaves the database exactly as it was and says where."""

import pytest

from shipwith.catalog.files import CatalogError
from shipwith.catalog.services import catalog_import
from tests.catalog.conftest import VALID, db_snapshot

pytestmark = pytest.mark.django_db

BAD_CASES = {
    "unknown field": (
        VALID.replace("    tagline: High", "    colour: blue\n    tagline: High"),
        [r"catalog.yaml:11: tools\[0\] \(slug 'vllm'\), field 'colour': unknown field"],
    ),
    "missing name": (
        VALID.replace("  - name: Hosted Thing\n", "  - tagline: nameless\n"),
        [r"catalog.yaml:26: tools\[1\], field 'name': required field is missing"],
    ),
    "duplicate slug": (
        VALID.replace("name: Hosted Thing", "name: Hosted Thing\n    slug: vllm"),
        [
            r"catalog.yaml:27: tools\[1\] \(slug 'vllm'\), field 'slug': duplicate tool slug "
            r"\(first at .*catalog.yaml:6\)"
        ],
    ),
    "negative price": (
        VALID.replace("amount: 20,", "amount: -5,"),
        [
            r"catalog.yaml:28: tools\[1\] \(name 'Hosted Thing'\), field 'entry_price.amount': "
            r"Input should be greater than or equal to 0"
        ],
    ),
    "non-numeric price": (
        VALID.replace("amount: 20,", "amount: twenty,"),
        [r"catalog.yaml:28: .*field 'entry_price.amount': .*decimal"],
    ),
    "unknown category": (
        VALID.replace(
            "    category: inference-servers\n  - name: Hosted",
            "    category: inference-servers\n  - name: Hosted",
        ).replace(
            "name: Hosted Thing\n    category: inference-servers",
            "name: Hosted Thing\n    category: robots",
        ),
        [
            r"catalog.yaml:27: tools\[1\] \(slug 'hosted-thing'\), field 'category': "
            r"unknown category 'robots'"
        ],
    ),
    "a 1 MB description": (
        VALID.replace("description: An open-source", "description: " + "x" * 1_048_576 + " An"),
        [
            r"catalog.yaml:12: tools\[0\] \(slug 'vllm'\), field 'description': "
            r"String should have at most 5000 characters"
        ],
    ),
    "yaml bomb": (
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
        [r"catalog.yaml:2: YAML aliases \(\*name\) are not allowed"],
    ),
    "duplicate key": (
        VALID.replace("    licence: Apache-2.0\n", "    licence: Apache-2.0\n    licence: MIT\n"),
        [r"catalog.yaml:14: duplicate key 'licence'"],
    ),
    "not a mapping": ("- just\n- a list\n", [r"catalog.yaml:1: a catalog file must be a mapping"]),
    "broken yaml": ("tools: [\n", [r"catalog.yaml:2: "]),
}


@pytest.fixture
def seeded(catalog_file):
    catalog_import(path=catalog_file(VALID, "seed.yaml"))
    return db_snapshot()


@pytest.mark.parametrize("case", BAD_CASES, ids=list(BAD_CASES))
def test_bad_input_is_refused_with_its_location(case, seeded, catalog_file):
    text, patterns = BAD_CASES[case]
    # Make the bad file also try to change a stored tool, so a half-write would show.
    text = text.replace("tagline: High-throughput", "tagline: Changed")
    path = catalog_file(text)

    with pytest.raises(CatalogError) as error:
        catalog_import(path=path)

    for pattern in patterns:
        assert any(__import__("re").search(pattern, str(p)) for p in error.value.problems), (
            f"{pattern!r} not in {error.value}"
        )
    assert db_snapshot() == seeded


def test_non_utf8_bytes_name_the_line(seeded, catalog_file):
    path = catalog_file(VALID.encode().replace(b"Serve models", b"Serve \xff models"))

    with pytest.raises(CatalogError, match=r"catalog.yaml:4: not valid UTF-8 \(byte 0xff\)"):
        catalog_import(path=path)
    assert db_snapshot() == seeded


def test_an_error_in_a_later_file_writes_nothing_from_earlier_files(seeded, catalog_file):
    catalog_file(VALID.replace("tagline: High-throughput", "tagline: Changed"), "a.yaml")
    path = catalog_file("tools:\n  - {name: Broken, category: nowhere}\n", "b.yaml")

    with pytest.raises(CatalogError, match=r"b.yaml:2: .*unknown category 'nowhere'"):
        catalog_import(path=path.parent)
    assert db_snapshot() == seeded


def test_the_command_reports_the_error_and_exits_non_zero(seeded, catalog_file, run_command):
    from django.core.management.base import CommandError

    path = catalog_file(VALID.replace("amount: 20,", "amount: -1,"))
    with pytest.raises(CommandError, match=r"nothing was imported:\n.*catalog.yaml:28"):
        run_command("catalog", "import", str(path))
    assert db_snapshot() == seeded
