"""An editor in Debian's chromium decides three candidates by clicking through the queue."""

import pytest
from django.contrib.auth.models import User

from shipwith.catalog.models import Tool
from shipwith.ingest.models import Candidate, Status
from shipwith.ingest.run import items_ingest
from tests.browser import chromium
from tests.ingest.conftest import make_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(live_server, settings, categories, make_source):
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    User.objects.create_superuser("editor", password="a long editor password")
    Tool.objects.create(name="Ollama", slug="ollama", category=categories["inference-servers"])
    items_ingest(
        source=make_source("show-hn", "hackernews"),
        items=[
            make_item("Zorblax", key="1", description="Embeddings <b>at</b> the edge."),
            make_item("Fnord", key="2", description="A crypto token with a chatbot."),
            make_item("Ollama Desktop", key="3", url="https://ollama.example/desktop"),
        ],
    )
    return live_server.url


def test_an_editor_decides_three_candidates_without_touching_the_url_bar(queue):
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(queue + "/admin/login/?next=/admin/")  # the only address typed
        page.get_by_label("Username").fill("editor")
        page.get_by_label("Password").fill("a long editor password")
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Candidates", exact=True).click()
        page.get_by_role("link", name="Review queue").click()
        assert page.locator("h1").inner_text() == "Review candidates"
        assert page.locator("#queue tbody tr").count() == 3
        page.get_by_label("Select every candidate on this page").check()
        assert page.locator("input[name=ids]:checked").count() == 3
        page.get_by_label("Select every candidate on this page").uncheck()
        page.locator("#queue tbody a").first.click()

        decided = []
        for _ in range(3):
            name = page.locator("h1").inner_text()
            decided.append(name)
            if name == "Zorblax":
                assert page.locator(".description").inner_text() == "Embeddings <b>at</b> the edge."
                # Proposed: vector databases (its words); the editor knows better.
                page.get_by_label("Category").select_option(label="Open-weight models")
                page.get_by_role("button", name="Accept as a new tool").click()
            elif name == "Fnord":
                page.get_by_label("Reason").fill("Not an AI tool: a token sale.")
                page.get_by_role("button", name="Reject").click()
            else:
                assert name == "Ollama Desktop"
                row = page.locator(".nearest-table tr", has_text="Ollama")
                assert "below the 90% threshold" in row.inner_text()
                page.get_by_label("Ollama", exact=True).check()
                page.get_by_role("button", name="Merge into the chosen tool").click()
            page.wait_for_load_state()
            assert page.locator(".messagelist .success").first.is_visible()

        assert sorted(decided) == ["Fnord", "Ollama Desktop", "Zorblax"]
        assert "Nothing to decide here." in page.locator("#content").inner_text()
        assert errors == []

    zorblax = Candidate.objects.get(name="Zorblax")
    assert zorblax.status == Status.ACCEPTED
    assert zorblax.tool.category.slug == "open-weight-models"
    fnord = Candidate.objects.get(name="Fnord")
    assert fnord.status == Status.REJECTED
    assert fnord.rejection_reason == "Not an AI tool: a token sale."
    desktop = Candidate.objects.get(name="Ollama Desktop")
    assert desktop.status == Status.ACCEPTED and desktop.tool.slug == "ollama"
    assert "Ollama Desktop" in Tool.objects.get(slug="ollama").alias_list
    assert Tool.objects.count() == 2  # Ollama and the accepted Zorblax
