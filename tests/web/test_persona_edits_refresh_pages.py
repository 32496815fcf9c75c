"""A persona edit or deactivation in the admin shows on cached pages at once."""

import pytest

from tests.factories import make_panel, make_personas, make_review, make_tool

pytestmark = pytest.mark.django_db


def edit(admin_client, persona, **changes):
    data = {
        field: getattr(persona, field)
        for field in ["key", "name", "position", "lens", "priorities", "deal_breakers", "voice"]
    }
    data |= {"model_spec": "", "alternate_spec": "", "active": "on" if persona.active else ""}
    data |= changes
    response = admin_client.post(f"/admin/panel/persona/{persona.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors


@pytest.fixture
def alpha():
    tool = make_tool("alpha", name="Alpha")
    make_panel(tool, "ssss")
    return tool


def test_renaming_a_persona_refreshes_every_take(
    client, admin_client, alpha, django_capture_on_commit_callbacks
):
    assert ">Skeptic</h3>" in client.get("/tools/alpha/").content.decode()  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        edit(admin_client, make_personas()[1], name="Doubter")
    html = client.get("/tools/alpha/").content.decode()
    assert html.count(">Doubter</h3>") == 1 and ">Skeptic</h3>" not in html


def test_deactivating_a_persona_refreshes_the_panel_figure(
    client, admin_client, alpha, django_capture_on_commit_callbacks
):
    make_review(alpha, make_personas()[3], "skip")
    before = client.get("/tools/alpha/").content.decode()  # now cached
    assert "75%" in before and "3 of 4" in before
    with django_capture_on_commit_callbacks(execute=True):
        edit(admin_client, make_personas()[3], active="")
    tool = client.get("/tools/alpha/").content.decode()
    assert "100%" in tool and "3 of 3" in tool  # three seats now, all three ship
    assert 'id="take-operator"' not in tool


def test_a_model_spec_no_model_can_serve_is_refused_with_the_reason(admin_client, alpha):
    persona = make_personas()[0]
    data = {
        field: getattr(persona, field)
        for field in ["key", "name", "position", "lens", "priorities", "deal_breakers", "voice"]
    }
    data |= {"model_spec": "", "alternate_spec": "gpt-4o", "active": "on"}
    response = admin_client.post(f"/admin/panel/persona/{persona.pk}/change/", data)
    assert response.status_code == 200
    assert "model spec &#x27;gpt-4o&#x27; names no model" in response.content.decode()
