"""The pages' reads of facts across tools: a category's facts table, sortable by any of its
columns, and the changes of facts that feeds and /changes tell; how a source and a change are
named to readers. A constant number of queries each."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.paginator import Page, Paginator
from django.urls import reverse

from shipwith.catalog.facts import FactKey, MoneyType, fact_keys_for
from shipwith.catalog.models import Category, Tool
from shipwith.catalog.selectors import (
    FactHistoryRow,
    FactRow,
    FactSource,
    fact_history_row,
    fact_news,
    facts_for_tools,
    key_facts,
)
from shipwith.web.selectors import category_named


@dataclass(frozen=True)
class ToolLink:
    pk: int
    name: str
    slug: str

    def get_absolute_url(self) -> str:
        return reverse("web:tool", args=[self.slug])


@dataclass(frozen=True)
class FactColumn:
    """A column of a category's facts table, and the order its heading sorts in."""

    fact: FactKey
    sort: str  # "key" (ascending) or "-key" (descending): what a click on the heading asks
    active: str  # "", "ascending" or "descending": how the table is sorted by it now


@dataclass
class FactsTable:
    category: Category
    columns: list[FactColumn]
    sort: str
    listing: Page
    rows: list[tuple[ToolLink, list[FactRow | None]]]


class SortError(ValueError):
    """A sort the table cannot do; the message lists the ones it can."""


def _natural_sort(fact: FactKey) -> str:
    """Cheapest price, then largest number, newest date, yes before no; text A to Z."""
    if fact.type.name == "text" or isinstance(fact.type, MoneyType):
        return fact.key
    return f"-{fact.key}"


def _sort_value(value):
    return value.casefold() if isinstance(value, str) else value


def category_facts(slug: str, sort: str = "", page: str | int = 1) -> FactsTable | None:
    """A category's tools with their key facts, sorted by one of them (missing values last).

    A constant number of queries: the category, its tools' names, the sort key's values, and
    the facts of the page's tools. SortError for a column the table does not have.
    """
    category = category_named(slug)
    if category is None:
        return None
    facts = [fact for fact in fact_keys_for(category.slug) if fact.type.name != "list"]
    key = sort.removeprefix("-")
    if sort and key not in {fact.key for fact in facts}:
        choices = ", ".join(fact.key for fact in facts)
        raise SortError(f'No column "{sort[:60]}" to sort by: choose one of {choices}.')
    tools = Tool.objects.filter(category=category)
    named = [
        ToolLink(*row) for row in tools.order_by("name", "pk").values_list("pk", "name", "slug")
    ]
    if key:
        chosen = key_facts(key, tools)
        known = [tool for tool in named if tool.pk in chosen]
        known.sort(key=lambda tool: _sort_value(chosen[tool.pk].value), reverse=sort != key)
        named = known + [tool for tool in named if tool.pk not in chosen]
    listing = Paginator(named, CATEGORY_FACTS_PAGE_SIZE).get_page(page)
    by_tool = facts_for_tools([tool.pk for tool in listing.object_list])
    rows = []
    for tool in listing.object_list:
        by_key = {row.key: row for row in by_tool[tool.pk]}
        rows.append((tool, [by_key.get(fact.key) for fact in facts]))
    columns = []
    for fact in facts:
        active = "" if fact.key != key else ("ascending" if sort == key else "descending")
        natural = _natural_sort(fact)
        flipped = fact.key if sort == f"-{fact.key}" else f"-{fact.key}"
        columns.append(FactColumn(fact, flipped if active else natural, active))
    return FactsTable(category, columns, sort, listing, rows)


CATEGORY_FACTS_PAGE_SIZE = 50


@dataclass(frozen=True)
class FactNews:
    """A change of a tool's fact, as feeds and /changes tell it."""

    pk: int
    tool: Tool
    change: FactHistoryRow

    @property
    def sentence(self) -> str:
        return fact_change_sentence(self.tool.name, self.change)


def _lower_first(label: str) -> str:
    """ "Output price" → "output price"; a name such as "GitHub stars" keeps its capitals."""
    first, _, rest = label.partition(" ")
    word = first[:1].lower() + first[1:] if first[1:].islower() or len(first) == 1 else first
    return f"{word} {rest}".strip()


def source_name(source: FactSource | None) -> str:
    """What a reader calls a source: its title, else its site ("openrouter.ai")."""
    if source is None:
        return "source not known"
    if source.title:
        return source.title
    host = urlsplit(source.url).hostname or source.url
    return host.removeprefix("www.")


def fact_change_sentence(tool_name: str, change: FactHistoryRow) -> str:
    """ "GPT-4o mini: output price $0.60 → $0.80 per 1M tokens"."""
    return f"{tool_name}: {_lower_first(change.label)} {change.text}"


def latest_fact_news(limit: int = 50) -> list[FactNews]:
    """The newest changes of facts' values, newest first, in one query."""
    changes = fact_news().order_by("-read_at", "-pk")[:limit]
    return [FactNews(change.pk, change.tool, fact_history_row(change)) for change in changes]
