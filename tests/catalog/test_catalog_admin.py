import pytest
from django.contrib.auth import get_user_model

from shipwith.catalog.models import Category, Tag, Tool, Vendor
from shipwith.catalog.services import catalog_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def tools(valid_catalog):
    catalog_import(path=valid_catalog)


def test_changelist_searches_and_filters(editor_client, tools):
    page = editor_client.get("/admin/catalog/tool/", {"q": "paged"})
    assert page.status_code == 200
    assert "vLLM" in page.text and "Hosted Thing" not in page.text

    filtered = editor_client.get("/admin/catalog/tool/", {"licence_kind__exact": "open_source"})
    assert "vLLM" in filtered.text and "Hosted Thing" not in filtered.text


def test_change_form_shows_sources_and_tiers_inline(editor_client, tools):
    tool = Tool.objects.get(slug="hosted-thing")
    page = editor_client.get(f"/admin/catalog/tool/{tool.pk}/change/")
    assert page.status_code == 200
    assert "Paid tiers" in page.text and "Sources" in page.text
    assert 'value="Team"' in page.text


def test_add_form_prepopulates_the_slug(editor_client, tools):
    page = editor_client.get("/admin/catalog/tool/add/")
    assert page.status_code == 200
    assert "prepopulated" in page.text


@pytest.mark.parametrize(
    ("model", "listed"), [("category", Category), ("vendor", Vendor), ("tag", Tag)]
)
def test_other_catalog_pages_list_what_was_imported(editor_client, tools, model, listed):
    page = editor_client.get(f"/admin/catalog/{model}/")
    names = list(listed.objects.values_list("name", flat=True))
    assert names and all(name in page.text for name in names)


def test_anonymous_visitors_are_sent_to_login(client, tools):
    response = client.get("/admin/catalog/tool/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_change_form_shows_facts_with_sources_and_their_history(editor_client, tools):
    import datetime as dt

    from shipwith.catalog.readings import facts_record

    tool = Tool.objects.get(slug="vllm")
    for day, version in [(1, "v0.6.2"), (3, "v0.6.3")]:
        facts_record(
            tool_id=tool.pk,
            source_url="https://github.com/vllm-project/vllm/releases",
            source_title="vLLM releases",
            read_at=dt.datetime(2026, 11, day, tzinfo=dt.UTC),
            values={"latest_release": version},
        )
    page = editor_client.get(f"/admin/catalog/tool/{tool.pk}/change/")
    assert page.status_code == 200
    assert "Facts with their sources" in page.text
    assert "Latest release" in page.text and "vLLM releases" in page.text
    assert "v0.6.2 → v0.6.3" in page.text and "2026-11-03" in page.text
    assert 'name="facts-TOTAL_FORMS"' not in page.text  # read-only: nothing to post back
