"""What an adapter hands the pipeline: one mention of a tool, its facts normalised.

Adapters turn a service's own format into `Item`s; everything after them (matching, candidates,
accepting) reads only these types, never a service's payload.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Identifiers(BaseModel):
    """Exact keys that name one tool across sources and the catalog (dedupe's first pass)."""

    model_config = ConfigDict(extra="forbid")

    huggingface: str | None = None  # "meta-llama/Llama-3.1-8B-Instruct"
    openrouter: str | None = None  # the canonical slug, "openai/gpt-4o-2024-05-13"
    github: str | None = None  # "owner/repo", lower case
    domain: str | None = None  # the homepage's host, lower case, without "www."


# Names facts had before they took the registry's keys: mentions stored then are read with these.
LEGACY_NAMES = {
    "price_input_per_mtok": "input_price_per_mtok",
    "price_output_per_mtok": "output_price_per_mtok",
    "context_length": "context_window",
}


def facts_renamed(facts: dict) -> dict:
    """Stored facts (JSON) under today's names: a legacy name gives way to its new one."""
    renamed = {LEGACY_NAMES.get(name, name): value for name, value in facts.items()}
    return renamed | {new: facts[new] for new in LEGACY_NAMES.values() if new in facts}


class Facts(BaseModel):
    """Normalised facts; None means the source does not say (never a guess).

    The fields named by a key of the catalog's registry (shipwith.catalog.facts: prices,
    context window, modalities, licence, releases, counters…) hold that key's value in its unit,
    as an adapter parsed it with the registry; the others (description, homepage, licence kind,
    tags) are what an accepted tool's own columns take.
    """

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    homepage: str | None = None
    licence: str | None = None  # SPDX id where the source gives one ("apache-2.0" → "Apache-2.0")
    licence_kind: Literal["open_weights", "open_source", "proprietary"] | None = None
    release_date: date | None = None
    open_weights: bool | None = None
    # USD per 1M tokens (OpenRouter's per-token strings are multiplied out).
    input_price_per_mtok: Decimal | None = Field(default=None, ge=0)
    output_price_per_mtok: Decimal | None = Field(default=None, ge=0)
    context_window: int | None = Field(default=None, ge=0)  # tokens
    max_output_tokens: int | None = Field(default=None, ge=0)  # tokens
    input_modalities: list[str] | None = None  # "text", "image"…
    output_modalities: list[str] | None = None
    parameters: Decimal | None = Field(default=None, ge=0)  # billions
    latest_release: str | None = None  # "v0.14.0"
    latest_release_date: date | None = None
    github_stars: int | None = Field(default=None, ge=0)
    hf_downloads: int | None = Field(default=None, ge=0)  # the Hub's count of the last 30 days
    tags: list[str] = Field(default_factory=list)  # topics, pipeline tags, modalities

    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, data: Any) -> Any:
        return facts_renamed(data) if isinstance(data, dict) else data


class Page(BaseModel):
    """A fetched page read as data: plain text, never markup; instructions in it are text."""

    url: str
    title: str = ""
    text: str = ""
    fetched_at: datetime
    metadata: dict[str, str] = Field(default_factory=dict)  # JSON-LD / OpenGraph: name, licence…


class Item(BaseModel):
    """One mention of a tool by one source."""

    key: str  # stable within its source, e.g. "openai/gpt-4o" or an HN story id
    name: str = Field(min_length=1)
    vendor: str | None = None
    url: str  # where a reader can see this mention
    # Where its registry facts were read, when not `url`: the same on every read, so one
    # source's readings of one tool make one history (a release feed's entries link their tags;
    # their facts come from the releases page).
    facts_url: str | None = None
    seen_at: datetime  # when the source says it happened (created, published), else fetch time
    identifiers: Identifiers = Field(default_factory=Identifiers)
    facts: Facts = Field(default_factory=Facts)
    category_hint: str | None = None  # a category slug the source suggests
    # A release of a tool ("v0.14.0"): an update note on the tool it belongs to, never a new tool.
    release: str | None = None
    page: Page | None = None  # the linked page, when the adapter fetched and read it


class ItemProblem(BaseModel):
    """One item a source could not give: reported with the source's name, the others go on."""

    key: str
    message: str
