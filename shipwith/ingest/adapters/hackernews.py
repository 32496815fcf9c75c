"""Hacker News "Show HN" posts: Algolia's `GET /api/v1/search_by_date?tags=show_hn`.

Format looked up in the HN Search API documentation (hn.algolia.com/api) and clients built on
it: `{"hits": [{"objectID", "title", "url", "author", "points", "num_comments", "story_text",
"created_at" (ISO 8601), "created_at_i" (Unix seconds), "_tags", "_highlightResult", …}],
"nbHits", "page", "nbPages", "hitsPerPage", …}`; `url` is null for a text-only post.

Only posts that look like AI tools (keywords in the title or link) with enough points are kept,
and the linked page is fetched (robots.txt honoured) and read. Anyone can post to HN, so a
source of this kind may never publish on its own.

Facts (catalog/facts.py keys): the linked page's licence (its JSON-LD) → `licence`, read from
that page. Never recorded for a known tool from here (see docs/ingest.md, "Facts").
"""

import logging
import re
from collections.abc import Iterator

from shipwith.ingest import normalise as n
from shipwith.ingest.adapters.base import Adapter
from shipwith.ingest.adapters.common import (
    json_records,
    option_bool,
    option_int,
    option_list,
    options_check,
    required_text,
)
from shipwith.ingest.fetch import Fetched, FetchError
from shipwith.ingest.items import Facts, Identifiers, Item, ItemProblem, Page
from shipwith.ingest.pages import page_read

logger = logging.getLogger(__name__)

KEYWORDS = [
    "ai", "llm", "llms", "gpt", "agent", "agents", "agentic", "model", "models", "rag",
    "embedding", "embeddings", "inference", "copilot", "prompt", "prompts", "vector", "ml",
    "machine learning", "transformer", "diffusion", "chatbot", "openai", "claude", "gemini",
    "llama", "mcp", "fine-tune", "fine-tuning", "eval", "evals", "genai", "neural",
]  # fmt: skip
SHOW_HN = re.compile(r"^\s*show\s+hn\s*:\s*", re.IGNORECASE)
# "Quill – a writing model", "Quill: a writing model", "Quill, a writing model"
TAGLINE = re.compile(r"\s+[–—-]\s+|:\s+|,\s+|\s+\|\s+")


class HackerNewsAdapter(Adapter):
    kind = "hackernews"
    default_url = "https://hn.algolia.com/api/v1/search_by_date?tags=show_hn&hitsPerPage=100"
    autopublish_allowed = False
    options_known = {"min_points", "keywords", "read_pages", "category"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        options_check(self.options, self.options_known, self.kind)
        self.min_points = option_int(self.options, "min_points", 5)
        words = option_list(self.options, "keywords", KEYWORDS)
        self.keywords = re.compile(
            r"\b(" + "|".join(re.escape(word.lower()) for word in words) + r")\b"
        )
        self.read_pages = option_bool(self.options, "read_pages", True)

    def items(self) -> Iterator[Item | ItemProblem]:
        return json_records(self, field="hits", keys=("objectID",), build=self._item)

    def looks_like_ai(self, title: str, url: str) -> bool:
        words = re.sub(r"[/._?=&#-]+", " ", f"{title} {url}".lower())
        return bool(self.keywords.search(words))

    def _item(self, hit: dict, fetched: Fetched) -> Item | None:
        story_id = str(hit.get("objectID") or "").strip()
        if not story_id.isdigit():
            raise ValueError(f"objectID {hit.get('objectID')!r} is not a story id")
        title = required_text(hit, "title")
        points = n.whole(hit.get("points"), field="points", default=0)
        link = n.web_url(hit.get("url"))
        if points < self.min_points or not self.looks_like_ai(title, link or ""):
            return None
        name, tagline = _name_and_tagline(title)
        page = self._page(link) if link and self.read_pages else None
        description = (
            (page.metadata.get("description") if page else None)
            or tagline
            or n.text(hit.get("story_text"), field="story_text")
        )
        created = n.when(hit.get("created_at"), field="created_at") or n.when(
            hit.get("created_at_i"), field="created_at_i"
        )
        return Item(
            key=story_id,
            name=name,
            url=f"https://news.ycombinator.com/item?id={story_id}",
            facts_url=page.url if page else None,  # the licence is the linked page's
            seen_at=created or fetched.fetched_at,
            identifiers=Identifiers(github=n.github_repo(link), domain=n.homepage_domain(link)),
            facts=Facts(
                description=description,
                homepage=n.homepage_url(link),
                licence=n.licence_spdx(page.metadata.get("licence")) if page else None,
            ),
            category_hint=self.options.get("category") or None,
            page=page,
        )

    def _page(self, url: str) -> Page | None:
        """The linked page read as text; a page we may not or cannot fetch leaves the item bare."""
        try:
            return page_read(self.fetcher.get(url, expect="html", robots=True, conditional=False))
        except FetchError as exc:
            logger.info("hackernews: linked page not read: %s", exc)
            return None


def _name_and_tagline(title: str) -> tuple[str, str | None]:
    """Split "Show HN: Quill – a writing model" into ("Quill", "A writing model")."""
    text = n.text(SHOW_HN.sub("", title), field="title") or title
    parts = TAGLINE.split(text, maxsplit=1)
    name = parts[0].strip().strip('"“”') or text
    tagline = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
    if tagline:
        tagline = tagline[0].upper() + tagline[1:]
    return name[:120], tagline
