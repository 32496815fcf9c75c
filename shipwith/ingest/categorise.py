"""Propose a category for a discovered tool, from what the sources say; no model involved.

The hint of the item or its source wins when it names a category. Otherwise the words of the
item (name, tags, description, page metadata, and what its source kind implies) are scored
against each category's own name and description, rarer words weighing more. Editors improve
the proposals by improving the categories' descriptions.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from shipwith.catalog.models import Category
from shipwith.ingest.items import Item

# What a source kind says about everything it lists, in the words category descriptions use.
KIND_WORDS = {
    "openrouter": "model api hosted tokens llm",
    "modelsdev": "model api tokens llm",
    "huggingface": "model weights open llm",
    "github": "open source library framework",
    "hackernews": "",
    "feed": "",
}
LICENCE_WORDS = {
    "open_weights": "open weights published download",
    "open_source": "open source self host",
    "proprietary": "proprietary api hosted",
}
_WORD = re.compile(r"[a-z][a-z0-9]+")
STOP = frozenset(
    "the and for with that you your from are its their this into any can per all use "
    "via more than not one".split()
)


def _words(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(text.lower()):
        if word in STOP:
            continue
        # A crude stem, so "models"/"model" and "servers"/"server" meet.
        words.append(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return words


@dataclass
class Categoriser:
    """Scores items against the categories as they are now (build one per run)."""

    categories: list[Category]

    def __post_init__(self) -> None:
        self._by_slug = {c.slug: c for c in self.categories}
        self._bags = {
            c.slug: Counter(_words(f"{c.name} {c.name} {c.description}")) for c in self.categories
        }
        count = len(self.categories) or 1
        seen = Counter(word for bag in self._bags.values() for word in bag)
        self._idf = {word: math.log(1 + count / n) for word, n in seen.items()}

    @classmethod
    def current(cls) -> "Categoriser":
        return cls(list(Category.objects.all()))

    def propose(
        self, item: Item, *, kind: str = "", hint: Category | None = None
    ) -> Category | None:
        if item.category_hint and item.category_hint in self._by_slug:
            return self._by_slug[item.category_hint]
        if hint is not None:
            return hint
        facts = item.facts
        parts = [item.name, " ".join(facts.tags), facts.description or "", KIND_WORDS.get(kind, "")]
        if facts.licence_kind:
            parts.append(LICENCE_WORDS[facts.licence_kind])
        if item.page is not None:
            parts += [item.page.title, *item.page.metadata.values()]
        words = Counter(_words(" ".join(parts)))
        best, best_score = None, 0.0
        for slug, bag in self._bags.items():
            score = sum(
                min(n, 3) * self._idf[word] * (1 + math.log(bag[word]))
                for word, n in words.items()
                if word in bag
            )
            if score > best_score:
                best, best_score = self._by_slug[slug], score
        return best
