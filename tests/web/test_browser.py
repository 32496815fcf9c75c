"""A reader in Debian's chromium: home → tool → comparison, hostile text, axe-core, widths."""

import pytest

from shipwith.comparisons.services import comparisons_publish
from tests.browser import AXE, chromium
from tests.factories import (
    add_source,
    add_tier,
    make_panel,
    make_personas,
    make_review,
    make_tool,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = (
    "<script>window.__pwned = 'script'</script>"
    "<img src=x onerror=\"window.__pwned = 'img'\"> hostile take"
)


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def site(live_server):
    a = make_tool("sglang", name="SGLang", tagline="Fast serving with a structured runtime")
    b = make_tool("vllm", name="vLLM", tagline="High-throughput serving with paged attention")
    c = make_tool("ollama", name="Ollama", tagline="Run models on your laptop")
    add_tier(b, "Team", 40)
    add_source(a)
    make_panel(a, "sssk")
    make_panel(b, "sskk")
    make_panel(c, "skk")
    source = add_source(b, "https://example.com/vllm")
    make_review(
        b,
        make_personas()[1],
        "skip",
        take=HOSTILE,
        key_risk=HOSTILE,
        claim_to_pressure=HOSTILE,
        competitors=[HOSTILE, "SGLang"],
        evidence_quotes=[HOSTILE],
        evidence_sources=[source.pk],
        dropped_quotes=[HOSTILE],
    )
    comparisons_publish()
    _ingested(a)  # "New this week" on the home page, price history on the tool page
    return live_server.url


def _ingested(tool):
    from datetime import timedelta

    from django.utils import timezone

    from shipwith.catalog.readings import facts_record
    from shipwith.ingest.models import Candidate, Status

    now = timezone.now()
    Candidate.objects.create(name=tool.name, tool=tool, status=Status.ACCEPTED, decided_at=now)
    for price, read_at in [("0.15", now - timedelta(days=2)), ("0.2", now)]:
        facts_record(
            tool_id=tool.pk,
            source_url="https://openrouter.ai/models",
            source_title="OpenRouter",
            read_at=read_at,
            values={"input_price_per_mtok": price},
        )


@pytest.fixture
def page(browser):
    context = browser.new_context(bypass_csp=False)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def test_reader_goes_from_home_to_a_tool_to_a_comparison(site, page):
    page.goto(site + "/")
    assert page.locator("h1").inner_text() == "Which AI tool should you ship with?"
    assert "SGLang" in page.locator("section[aria-labelledby=new-heading]").inner_text()
    page.get_by_role("link", name="SGLang", exact=True).first.click()
    page.wait_for_url("**/tools/sglang/")
    assert page.locator("h1").inner_text() == "SGLang"
    assert "3 of 4" in page.locator(".figures").first.inner_text()
    assert "$0.15 → $0.20 per 1M tokens since" in page.locator(".fact-history").inner_text()
    page.locator("a[href='/compare/sglang-vs-vllm/']").first.click()
    page.wait_for_url("**/compare/sglang-vs-vllm/")
    assert "Ship with SGLang." in page.locator(".pick-answer").inner_text()
    assert page.locator(".split-row").count() == 4


def test_hostile_take_shows_as_text_and_runs_nothing(site, page):
    for path in ["/tools/vllm/", "/compare/sglang-vs-vllm/"]:
        page.goto(site + path)
        assert page.get_by_text("<script>window.__pwned").first.is_visible()
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img[src=x]").count() == 0
        # The take, its key risk, claim, competitor and quote: five places, all plain text.
        skeptic = page.locator("[id^=take-skeptic]").last
        assert skeptic.get_by_text("<script>window.__pwned", exact=False).count() == 5
        assert skeptic.locator("a[href='/tools/sglang/']").inner_text() == "SGLang"
        quote = skeptic.locator(".evidence a")
        assert quote.get_attribute("href") == "https://example.com/vllm"
        assert "1 quote dropped as unverified" in skeptic.inner_text()
    assert page.dialogs == []


def test_inline_script_is_refused_by_the_csp(site, page):
    messages = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(site + "/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__inline = 1'; document.body.append(s); }"
    )
    assert page.evaluate("window.__inline") is None
    assert any("Content Security Policy" in text for text in messages)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/tools/sglang/",
        "/compare/sglang-vs-vllm/",
        "/compare/sglang-vs-vllm/?input=lots&output=1M",
        "/categories/inference-servers/facts/?sort=licence",
    ],
)
def test_axe_finds_no_serious_violations(site, browser, path):
    context = browser.new_context(bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    page.goto(site + path)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


@pytest.mark.parametrize("width", [390, 1280])
def test_no_horizontal_overflow(site, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    for path in ["/", "/tools/vllm/", "/compare/sglang-vs-vllm/", "/categories/inference-servers/"]:
        page.goto(site + path)
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (path, widths)
    context.close()
