"""The catalog file format: YAML parsed with line numbers and validated by pydantic schemas.

A catalog file has two top-level keys, both optional: `categories` and `tools`. See
docs/catalog-format.md for every field. Aliases are refused (no "billion laughs").
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shipwith.catalog.facts import fact_key
from shipwith.core.text import plain_text

MAX_FILE_BYTES = 5 * 1024 * 1024
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _text(max_length: int):
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(plain_text)]


def _not_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty (after removing any HTML)")
    return value


def _required_text(max_length: int):
    return Annotated[_text(max_length), AfterValidator(_not_empty)]


Url = Annotated[HttpUrl, AfterValidator(str)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=120)]
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False, max_digits=12, decimal_places=4)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# External identifiers: "owner/name" as each service spells it.
HuggingFaceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$", max_length=200)]
OpenRouterSlug = Annotated[
    str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*/[a-z0-9._:-]+$", max_length=200)
]
GitHubRepo = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+$", max_length=140)
]
Domain = Annotated[str, Field(pattern=r"^[a-z0-9-]+(?:\.[a-z0-9-]+)+$", max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CategoryEntry(Strict):
    slug: Slug
    name: _required_text(80)
    description: _text(2000) = ""


class EntryPrice(Strict):
    kind: Literal["free", "amount", "usage", "contact"]
    amount: Money | None = None
    currency: Currency = "USD"
    period: Literal["month", "year", "once"] | None = None
    unit: _text(60) = ""

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> "EntryPrice":
        if self.kind in ("amount", "usage") and self.amount is None:
            raise ValueError(f"a price of kind '{self.kind}' needs an amount")
        if self.kind in ("free", "contact") and self.amount is not None:
            raise ValueError(f"a price of kind '{self.kind}' takes no amount")
        if self.kind == "amount" and not self.period:
            raise ValueError("a price of kind 'amount' needs a period (month, year or once)")
        if self.kind == "usage" and not self.unit:
            raise ValueError("a price of kind 'usage' needs a unit, e.g. '1M input tokens'")
        return self


class TierEntry(Strict):
    name: _required_text(80)
    amount: Money | None = None
    currency: Currency = "USD"
    period: Literal["month", "year", "once"] | None = None
    unit: _text(60) = ""
    notes: _text(300) = ""


class SourceEntry(Strict):
    url: Url
    title: _text(200) = ""
    checked_on: dt.date | None = None
    snapshot: _text(20_000) = ""


class FactEntry(Strict):
    """A fact with where and when it was read: `read` is a day, or a time (an export's)."""

    key: str
    value: Any
    source: Url
    title: _text(200) = ""
    read: dt.datetime | dt.date

    @field_validator("key")
    @classmethod
    def _known_key(cls, key: str) -> str:
        fact_key(key)
        return key

    @field_validator("value")
    @classmethod
    def _value_of_key(cls, value: Any, info: ValidationInfo) -> Any:
        if "key" not in info.data:  # the key's own error says what is wrong
            return value
        return fact_key(info.data["key"]).parse(value)

    @field_validator("read")
    @classmethod
    def _read_then(cls, read: dt.datetime | dt.date) -> dt.datetime | dt.date:
        if isinstance(read, dt.datetime) and read.tzinfo is None:
            read = read.replace(tzinfo=dt.UTC)
        if fact_read_at(read) > dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
            raise ValueError(f"{read} is in the future: give the day the source was read")
        return read

    @property
    def read_at(self) -> dt.datetime:
        return fact_read_at(self.read)


def fact_read_at(read: dt.datetime | dt.date) -> dt.datetime:
    """A day read is its first moment (UTC); a time is itself."""
    if isinstance(read, dt.datetime):
        return read
    return dt.datetime.combine(read, dt.time(), dt.UTC)


def _facts_once(facts: list[FactEntry]) -> list[FactEntry]:
    seen: set = set()
    for fact in facts:
        if (fact.key, fact.source) in seen:
            raise ValueError(f"fact '{fact.key}' from {fact.source} is listed twice")
        seen.add((fact.key, fact.source))
    return facts


class ToolEntry(Strict):
    name: _required_text(120)
    slug: Slug | None = None
    vendor: _text(120) = ""
    vendor_homepage: Url | None = None
    category: Slug
    tagline: _text(200) = ""
    description: _text(5000) = ""
    licence: _text(120) = ""
    licence_kind: Literal["open_weights", "open_source", "proprietary"] | None = None
    homepage: Url | None = None
    release_date: dt.date | None = None
    deployment: Literal["self_hosted", "api", "both"] | None = None
    entry_price: EntryPrice | None = None
    tiers: list[TierEntry] = Field(default_factory=list, max_length=20)
    sources: list[SourceEntry] = Field(default_factory=list, max_length=20)
    tags: list[Annotated[str, Field(pattern=SLUG_PATTERN, max_length=50)]] = Field(
        default_factory=list, max_length=30
    )
    aliases: list[Annotated[_required_text(120), Field(pattern=r"^[^\r\n]+$")]] = Field(
        default_factory=list, max_length=20
    )
    huggingface_id: HuggingFaceId | None = None
    openrouter_slug: OpenRouterSlug | None = None
    github_repo: GitHubRepo | None = None
    # Derived from a homepage at a site's root when left out; "" would say "none".
    homepage_domain: Domain | Literal[""] | None = None
    facts: Annotated[list[FactEntry], Field(max_length=200), AfterValidator(_facts_once)] = Field(
        default_factory=list
    )

    @property
    def resolved_slug(self) -> str:
        return self.slug or slugify(self.name)


class CatalogDocument(Strict):
    categories: list[CategoryEntry] = Field(default_factory=list)
    tools: list[ToolEntry] = Field(default_factory=list)


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:120]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{location}: {self.where}: {self.message}"
            if self.where
            else f"{location}: {self.message}"
        )


class CatalogError(Exception):
    """A catalog file is invalid; `problems` says where and what, one line each."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ParsedFile:
    path: str
    document: CatalogDocument
    lines: dict[tuple, int]

    def line_of(self, *loc) -> int | None:
        """Return the line of the deepest known YAML node on the path `loc`."""
        for end in range(len(loc), -1, -1):
            if (line := self.lines.get(tuple(loc[:end]))) is not None:
                return line
        return None


class _NoAliasLoader(yaml.SafeLoader):
    """Safe loader that refuses aliases, so a small file cannot expand without bound."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(
                problem="YAML aliases (*name) are not allowed in catalog files", problem_mark=mark
            )
        return super().compose_node(parent, index)


def _line_map(node: yaml.Node, path: tuple, lines: dict, problems: list[str]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append((key_node.start_mark.line + 1, f"duplicate key '{key}'"))
            seen.add(key)
            _line_map(value_node, (*path, key), lines, problems)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines, problems)


def _describe(document_data: object, loc: tuple) -> str:
    """Name the entry an error belongs to: tools[3] (slug 'vllm'), field 'entry_price.amount'."""
    if len(loc) >= 2 and loc[0] in ("tools", "categories") and isinstance(loc[1], int):
        entry = ""
        try:
            item = document_data[loc[0]][loc[1]]  # type: ignore[index]
            label = item.get("slug") or item.get("name")
            if label:
                entry = f" ({'slug' if item.get('slug') else 'name'} '{label}')"
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        field = ".".join(str(part) for part in loc[2:])
        where = f"{loc[0]}[{loc[1]}]{entry}"
        return f"{where}, field '{field}'" if field else where
    return f"field '{'.'.join(str(part) for part in loc)}'" if loc else ""


def parse_bytes(raw: bytes, name: str) -> ParsedFile:
    """Parse and validate one catalog file's bytes; raise CatalogError naming line and field."""
    if len(raw) > MAX_FILE_BYTES:
        raise CatalogError([Problem(name, None, "", f"file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError(
            [Problem(name, line, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")]
        ) from None
    loader = _NoAliasLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise CatalogError([Problem(name, line, "", exc.problem or str(exc))]) from None
    except yaml.YAMLError as exc:
        raise CatalogError([Problem(name, None, "", str(exc))]) from None
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    duplicate_keys: list = []
    if node is not None:
        _line_map(node, (), lines, duplicate_keys)
    if duplicate_keys:
        raise CatalogError([Problem(name, line, "", message) for line, message in duplicate_keys])
    if not isinstance(data, dict):
        raise CatalogError(
            [Problem(name, 1, "", "a catalog file must be a mapping with 'categories' and 'tools'")]
        )
    parsed = ParsedFile(path=name, document=CatalogDocument(), lines=lines)
    try:
        parsed.document = CatalogDocument.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(name, parsed.line_of(*err["loc"]), _describe(data, err["loc"]), _message(err))
            for err in exc.errors()
        ]
        raise CatalogError(problems) from None
    return parsed


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required field is missing"
    return error["msg"].removeprefix("Value error, ")


def catalog_paths(path: Path) -> list[Path]:
    """Return the YAML files at `path`: the file itself, or every *.yaml/*.yml in the folder."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise CatalogError([Problem(str(path), None, "", "no .yaml files in this folder")])
        return files
    if not path.exists():
        raise CatalogError([Problem(str(path), None, "", "no such file or folder")])
    return [path]


def parse_path(path: Path) -> list[ParsedFile]:
    """Parse every catalog file at `path`, collecting the problems of all files."""
    parsed, problems = [], []
    for file in catalog_paths(path):
        try:
            parsed.append(parse_bytes(file.read_bytes(), str(file)))
        except CatalogError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CatalogError(problems)
    return parsed
