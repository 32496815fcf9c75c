"""The default sources: a data file in the package (defaults.yaml, which says why each source
and threshold), added by `up` to a database that has no source yet.

`SHIPWITH_INGEST_DEFAULTS=0` adds none; `SHIPWITH_INGEST_DEFAULTS_FILE=PATH` reads a file of
the same format instead (an operator's own list, or tests' loopback stand-ins).
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, ValidationError

from shipwith.catalog.files import slugify
from shipwith.catalog.models import Tool
from shipwith.core.turns import turn_take
from shipwith.ingest.errors import IngestError
from shipwith.ingest.models import IngestSource
from shipwith.ingest.sources import interval_parse, source_add

PACKAGED = Path(__file__).with_name("defaults.yaml")
NAME_CHARS = 80  # IngestSource.name


class DefaultSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str
    url: str = ""
    options: dict[str, Any] = {}
    category: str | None = None
    autopublish: bool = False
    updates_only: bool = False
    every: str | None = None
    baseline: bool = True
    enabled: bool = True
    for_each_tool: Literal["github_repo", "huggingface_id", "openrouter_slug"] | None = None


class DefaultsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[DefaultSource]


@dataclass
class DefaultsReport:
    path: Path | None = None  # None: not read (turned off)
    added: list[IngestSource] = field(default_factory=list)
    per_tool: int = 0  # of those, added once per catalog tool

    def __str__(self) -> str:
        if self.path is None:
            return "no default sources (SHIPWITH_INGEST_DEFAULTS=0)"
        shared = [source.name for source in self.added[: len(self.added) - self.per_tool]]
        if self.per_tool:
            shared.append(f"{self.per_tool} for catalog tools")
        return (
            f"added {len(self.added)} default sources ({', '.join(shared) or 'none'}) "
            f"from {self.path}; edit them in the admin"
        )


def defaults_path() -> Path:
    return Path(settings.SHIPWITH_INGEST_DEFAULTS_FILE or PACKAGED)


def defaults_read(path: Path) -> list[DefaultSource]:
    """The file's entries; IngestError naming the file and the entry when it does not fit."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IngestError(f"default sources {path}: cannot read: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IngestError(f"default sources {path}: not YAML: {exc}") from None
    try:
        return DefaultsFile.model_validate(document).sources
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        if loc[:1] == ["sources"] and len(loc) > 1 and isinstance(loc[1], int):
            loc[:2] = [f"source {loc[1] + 1}"]  # counted as a reader counts them
        where = ", ".join(str(part) for part in loc) or "the file"
        raise IngestError(f"default sources {path}: {where}: {error['msg']}") from None


def _expanded(entry: DefaultSource) -> list[tuple[str, str]]:
    """The (name, url) of each source the entry stands for."""
    if entry.for_each_tool is None:
        return [(entry.name, entry.url)]
    identifier = entry.for_each_tool
    pairs = []
    tools = Tool.objects.exclude(**{identifier: ""}).order_by("slug")
    for slug, value in tools.values_list("slug", identifier):
        fill = {"slug": slug, identifier: value}
        try:
            name, url = entry.name.format_map(fill), entry.url.format_map(fill)
        except (KeyError, ValueError) as exc:
            raise IngestError(f"source '{entry.name}': cannot fill in {exc}") from None
        pairs.append((slugify(name)[:NAME_CHARS], url))
    return pairs


def sources_add_defaults() -> DefaultsReport | None:
    """Add the default sources, all or none, to a database with no source yet (None when it
    has some: an editor's sources are never added to)."""
    if IngestSource.objects.exists():
        return None
    if not settings.SHIPWITH_INGEST_DEFAULTS:
        return DefaultsReport()
    path = defaults_path()
    entries = defaults_read(path)
    report = DefaultsReport(path=path)
    try:
        with transaction.atomic():
            turn_take("ingest.defaults")  # two `up`s at once add them once
            if IngestSource.objects.exists():
                return None
            for entry in sorted(entries, key=lambda entry: entry.for_each_tool is not None):
                interval = interval_parse(entry.every) if entry.every else None
                for name, url in _expanded(entry):
                    report.added.append(
                        source_add(
                            name=name,
                            kind=entry.kind,
                            url=url,
                            options=entry.options,
                            category_slug=entry.category,
                            autopublish=entry.autopublish,
                            enabled=entry.enabled,
                            updates_only=entry.updates_only,
                            interval=interval,
                            baseline=entry.baseline,
                        )
                    )
                    report.per_tool += entry.for_each_tool is not None
    except IngestError as exc:
        raise IngestError(f"default sources {path}: {exc}") from None
    return report
