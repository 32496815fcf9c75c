"""A catalog change (admin edit or import) shows on cached pages at once."""

import pytest

from tests.factories import make_tool

pytestmark = pytest.mark.django_db


def test_admin_edit_refreshes_the_cached_tool_page(admin_client):
    tool = make_tool("alpha", name="Alpha", tagline="Old tagline")
    assert "Old tagline" in admin_client.get("/tools/alpha/").content.decode()
    form = admin_client.get(f"/admin/catalog/tool/{tool.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        name="Alpha",
        slug="alpha",
        category=tool.category_id,
        vendor=tool.vendor_id,
        tagline="New tagline",
        tags=[],
        price_currency="USD",
        **{
            f"{prefix}-{key}": value
            for prefix in ("tiers", "sources")
            for key, value in {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0}.items()
        },
    )
    data.pop("release_date", None)
    response = admin_client.post(f"/admin/catalog/tool/{tool.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "New tagline" in admin_client.get("/tools/alpha/").content.decode()


def test_catalog_import_refreshes_cached_pages(client, catalog_file, run_command):
    path = catalog_file(
        "categories:\n  - {slug: servers, name: Servers}\n"
        "tools:\n  - {name: Alpha, slug: alpha, category: servers, tagline: First}\n"
    )
    run_command("catalog", "import", str(path))
    assert "First" in client.get("/tools/alpha/").content.decode()
    path.write_text(path.read_text().replace("First", "Second"))
    run_command("catalog", "import", str(path))
    assert "Second" in client.get("/tools/alpha/").content.decode()
