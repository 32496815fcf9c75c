"""Facts on the pages: each with its source and date, the pricing read of stated workloads and
of a reader's own volumes, and a category's facts table."""

import html
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shipwith.catalog.readings import facts_record
from shipwith.comparisons.services import comparisons_publish
from shipwith.web import caching
from tests.factories import make_category, make_panel, make_tool, stamp_reads

pytestmark = pytest.mark.django_db

OPENAI = "https://openai.com/api/pricing/"
OPENROUTER = "https://openrouter.ai/models"
MODELS_DEV = "https://models.dev/"
ATOM = "{http://www.w3.org/2005/Atom}"


def record(tool, url: str, title: str, *, hours_ago: float = 0, **values) -> None:
    facts_record(
        tool_id=tool.pk,
        source_url=url,
        source_title=title,
        read_at=timezone.now() - timedelta(hours=hours_ago),
        values=values,
    )


def hosted(slug: str, name: str):
    category = make_category("hosted-models", "Hosted models")
    tool = make_tool(
        slug, name=name, category=category, deployment="api", licence_kind="proprietary"
    )
    make_panel(tool, "ssss")
    return tool


def text_of(response) -> str:
    """The page as a reader reads it: tags dropped, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return (
        re.sub(r"\s+", " ", text).replace(" ,", ",").replace(" )", ")").replace("( ", "(").strip()
    )


@pytest.fixture
def models():
    """Two hosted models with input and output prices from their vendors' pricing pages."""
    big, small = hosted("big-model", "Big Model"), hosted("small-model", "Small Model")
    record(
        big,
        OPENAI,
        "Big pricing",
        hours_ago=3,
        input_price_per_mtok="3",
        output_price_per_mtok="15",
    )
    record(
        small,
        OPENAI,
        "Small pricing",
        hours_ago=3,
        input_price_per_mtok="0.30",
        output_price_per_mtok="2.50",
    )
    comparisons_publish()
    return big, small


def test_the_tool_page_lists_each_fact_with_its_source_and_when_it_was_read(client, models):
    big, _ = models
    record(big, OPENAI, "Big pricing", hours_ago=3, context_window=200_000)
    record(big, OPENROUTER, "OpenRouter", hours_ago=24 * 45, licence="Proprietary")
    html = client.get("/tools/big-model/").content.decode()
    facts = html[html.index('id="facts"') : html.index("</section>", html.index('id="facts"'))]
    row = re.search(r"<th scope=\"row\">Input price</th>(.*?)</tr>", facts, re.S)[1]
    assert "$3 per 1M tokens" in row
    assert f'<a href="{OPENAI}" rel="nofollow noopener">Big pricing</a>' in row
    assert "read 3 h ago" in row
    assert "200,000 tokens" in facts
    # A fact no source has read for 30 days says so, with its age.
    licence = re.search(
        r"<tr class=\"is-stale\">\s*<th scope=\"row\">Licence</th>(.*?)</tr>", facts, re.S
    )[1]
    assert "not read for 45 days" in licence
    # A key hosted models have that no source gave yet.
    assert re.search(
        r"Longest output</th>\s*<td colspan=\"3\" class=\"empty\">Not known yet", facts
    )


def test_two_sources_that_disagree_are_both_shown(client, models):
    _, small = models
    record(small, OPENROUTER, "OpenRouter", hours_ago=2, output_price_per_mtok="0.60")
    record(small, MODELS_DEV, "models.dev", hours_ago=1, output_price_per_mtok="0.80")
    page = text_of(client.get("/tools/small-model/"))
    # The newest news wins (models.dev changed it last); the others stay beside it.
    assert (
        "Output price $0.80 per 1M tokens Sources disagree: models.dev says $0.80, OpenRouter says $0.60, Small pricing says $2.50."
        in page
    )


def test_a_price_change_shows_as_history_since_its_day(client, models):
    _, small = models
    record(small, OPENAI, "Small pricing", hours_ago=1, input_price_per_mtok="0.35")
    page = text_of(client.get("/tools/small-model/"))
    day = timezone.now().strftime("%-d %b %Y")
    assert f"Input price $0.30 → $0.35 per 1M tokens since {day} (Small pricing)" in page
    # A source's first reading is in the table, not in the history.
    assert "none →" not in page


def test_the_comparison_prices_three_workloads_as_a_hand_computation_does(client, models):
    page = text_of(client.get("/compare/big-model-vs-small-model/"))
    assert "Input price $3 per 1M tokens Big pricing, read 3 h ago" in page
    # Chat app, 20M in + 5M out: Big 20 × 3 + 5 × 15 = 135; Small 20 × 0.30 + 5 × 2.50 = 18.50;
    # Small saves 116.50 a month and is 135 / 18.5 = 7.3 times as cheap.
    assert "Chat app 20M in + 5M out tokens a month" in page
    assert "$135.00 $18.50 Small Model: $116.50 a month less, 7.3× cheaper" in page
    # RAG pipeline, 100M in + 2M out: Big 300 + 30 = 330; Small 30 + 5 = 35; 330 / 35 = 9.43.
    assert "$330.00 $35.00 Small Model: $295.00 a month less, 9.4× cheaper" in page
    # Agent, 300M in + 30M out: Big 900 + 450 = 1,350; Small 90 + 75 = 165; 1350 / 165 = 8.18.
    assert "$1,350.00 $165.00 Small Model: $1,185.00 a month less, 8.2× cheaper" in page


def test_a_self_hosted_model_costs_your_hardware_not_zero(client, models):
    big, _ = models
    open_weights = make_category("open-weight-models", "Open-weight models")
    llama = make_tool("llama", name="Llama", category=open_weights, deployment="self_hosted")
    record(llama, "https://huggingface.co/meta-llama", "Hugging Face", open_weights=True)
    page = text_of(client.get("/compare/big-model-vs-llama/"))
    assert "$135.00 your hardware Depends on what your hardware costs to run Llama" in page
    assert "$0.00" not in page


def test_a_model_without_a_price_says_no_price_read(client, models):
    hosted("mystery", "Mystery")
    page = text_of(client.get("/compare/big-model-vs-mystery/"))
    assert "$135.00 no price read Not known: no price read for Mystery" in page


def test_a_readers_own_volumes_are_priced_and_the_cached_page_stays_the_same(client, models):
    url = "/compare/big-model-vs-small-model/"
    before = client.get(url)
    assert "Your volumes" not in text_of(before)
    mine = client.get(url, {"input": "1,234,567", "output": "89012"})
    assert mine.status_code == 200
    assert mine["Cache-Control"] == "private, no-store"
    page = text_of(mine)
    # Big: 1.234567 × 3 + 0.089012 × 15 = 5.038881 → $5.04;
    # Small: 1.234567 × 0.30 + 0.089012 × 2.50 = 0.5929001 → $0.59; 5.038881 / 0.5929001 = 8.5.
    assert (
        "Your volumes 1,234,567 input and 89,012 output tokens a month, as you entered them."
        in page
    )
    assert "$5.04 $0.59 Small Model: $4.45 a month less, 8.5× cheaper" in page
    assert 'value="1,234,567"' in mine.content.decode()
    # The next reader gets the shared page from the cache: no one's volumes in it.
    after = client.get(url)
    assert after["ETag"] == before["ETag"]
    assert "Your volumes" not in text_of(after) and "1,234,567" not in after.content.decode()


def test_a_readers_volumes_are_never_stored_in_the_page_cache(client, models):
    url = "/compare/big-model-vs-small-model/"
    client.get(url, {"input": "20M", "output": "5M"})
    assert not caching._local  # nothing stored for the reader's query
    first = client.get(url, {"input": "1M", "output": "1M"})
    second = client.get(url, {"input": "2M", "output": "1M"})
    # 1M + 1M: Big 3 + 15 = 18, Small 0.30 + 2.50 = 2.80; 2M + 1M: Big 21, Small 3.10.
    assert "$18.00 $2.80" in text_of(first) and "$21.00 $3.10" in text_of(second)


def test_a_volume_that_cannot_be_priced_is_refused_clearly(client, models):
    response = client.get("/compare/big-model-vs-small-model/", {"input": "lots", "output": "1M"})
    assert response.status_code == 400
    page = text_of(response)
    assert (
        'Input tokens a month: "lots" is not a number of tokens; write it as 20000000 or 20M.'
        in page
    )
    assert "Your volumes" not in page
    assert "$135.00" in page  # the stated workloads are still there


def test_the_other_order_redirects_with_the_readers_volumes(client, models):
    response = client.get("/compare/small-model-vs-big-model/", {"input": "1M", "output": "1M"})
    assert response.status_code == 301
    assert response["Location"] == "/compare/big-model-vs-small-model/?input=1M&output=1M"


def test_a_new_price_re_renders_the_comparison(client, models):
    url = "/compare/big-model-vs-small-model/"
    assert "$135.00" in text_of(client.get(url))
    _, small = models
    record(small, OPENAI, "Small pricing", output_price_per_mtok="27")  # facts_record touches
    page = text_of(client.get(url))
    # Chat app: Small 20 × 0.30 + 5 × 27 = 141 > 135: now Big is cheaper by 6.
    assert "$135.00 $141.00 Big Model: $6.00 a month less, 1.04× cheaper" in page


def test_a_page_that_says_how_old_a_fact_is_is_kept_ten_minutes_at_most(
    client, models, monkeypatch
):
    url = "/tools/big-model/"
    client.get(url)
    (entry,) = caching._local.values()
    assert entry.expires_at - entry.rendered_at == caching.AGES_KEPT == 600
    assert queries(client, url) == 0  # from the cache while it is young
    monkeypatch.setattr(caching.time, "time", lambda: entry.rendered_at + 601)
    assert queries(client, url) > 0  # "read 3 h ago" is written afresh


def queries(client, url: str) -> int:
    """The queries a page cost beyond reading its freshness stamps (0: from the cache)."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured) - stamp_reads(captured)


@pytest.fixture
def category_of_models(models):
    big, small = models
    middle = hosted("middle-model", "Middle Model")
    record(middle, OPENROUTER, "OpenRouter", input_price_per_mtok="1", context_window=1_000_000)
    record(big, OPENAI, "Big pricing", context_window=200_000)
    record(small, OPENAI, "Small pricing", context_window=128_000)
    hosted("unpriced-model", "Unpriced Model")
    return big, small, middle


def tool_order(response) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/tools/([^/]+)/">', response.content.decode())


def test_the_category_facts_table_sorts_by_a_column(client, category_of_models):
    url = "/categories/hosted-models/facts/"
    assert tool_order(client.get(url)) == [
        "big-model", "middle-model", "small-model", "unpriced-model"
    ]  # fmt: skip
    cheapest = client.get(url, {"sort": "input_price_per_mtok"})
    # Cheapest input first; a tool with no price read goes last, whichever the direction.
    assert tool_order(cheapest) == ["small-model", "middle-model", "big-model", "unpriced-model"]
    largest = client.get(url, {"sort": "-context_window"})
    assert tool_order(largest) == ["middle-model", "big-model", "small-model", "unpriced-model"]
    html = largest.content.decode()
    assert 'aria-sort="descending"><a href="?sort=context_window">Context window</a>' in html
    # The price heading sorts cheapest first; each cell links to its source.
    assert '<a href="?sort=input_price_per_mtok">Input price</a>' in html
    assert (
        f'<a href="{OPENROUTER}" rel="nofollow noopener" title="OpenRouter, read less than an hour ago">1,000,000</a>'
        in html
    )


def test_the_category_facts_table_refuses_a_column_it_does_not_have(client, category_of_models):
    response = client.get("/categories/hosted-models/facts/", {"sort": "vibes"})
    assert response.status_code == 400
    assert 'No column "vibes" to sort by: choose one of input_price_per_mtok' in text_of(response)
    assert client.get("/categories/nothing/facts/").status_code == 404


def test_the_category_page_links_to_its_facts_table(client, category_of_models):
    html = client.get("/categories/hosted-models/").content.decode()
    assert 'href="/categories/hosted-models/facts/"' in html


def test_the_verdicts_feed_tells_a_changed_price_in_one_sentence(client, models):
    _, small = models
    record(small, OPENAI, "Small pricing", hours_ago=1, output_price_per_mtok="0.80")
    root = ET.fromstring(client.get("/feeds/verdicts.atom").content)
    entries = {entry.findtext(f"{ATOM}title"): entry for entry in root.iter(f"{ATOM}entry")}
    change = entries["Small Model: output price $2.50 → $0.80 per 1M tokens"]
    assert change.find(f"{ATOM}link").get("href").endswith("/tools/small-model/#facts")
    assert "as Small pricing says" in change.findtext(f"{ATOM}summary")
    # A source's first reading is no news: only the change is an entry, beside the takes.
    assert sum("price" in title for title in entries) == 1
    assert "Builder: ship Small Model" in entries
