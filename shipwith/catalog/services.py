"""Writes to the catalog: import and export of catalog files."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction

from shipwith.catalog.facts import FACTS, ORDER, FactError
from shipwith.catalog.files import (
    CatalogError,
    ParsedFile,
    Problem,
    ToolEntry,
    parse_path,
    slugify,
)
from shipwith.catalog.identifiers import tool_domain
from shipwith.catalog.models import Category, PaidTier, Source, Tag, Tool, Vendor
from shipwith.catalog.readings import facts_record
from shipwith.core.freshness import tools_touch


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )


def _check_references(files: list[ParsedFile]) -> None:
    """Refuse duplicate slugs and unknown categories before anything is written."""
    problems: list[Problem] = []
    category_slugs = set(Category.objects.values_list("slug", flat=True))
    seen_categories: dict[str, str] = {}
    for parsed in files:
        for index, entry in enumerate(parsed.document.categories):
            where = f"categories[{index}] (slug '{entry.slug}'), field 'slug'"
            if entry.slug in seen_categories:
                problems.append(
                    Problem(
                        parsed.path,
                        parsed.line_of("categories", index, "slug"),
                        where,
                        f"duplicate category slug (first at {seen_categories[entry.slug]})",
                    )
                )
            seen_categories[entry.slug] = f"{parsed.path}:{parsed.line_of('categories', index)}"
            category_slugs.add(entry.slug)
    seen_tools: dict[str, str] = {}
    for parsed in files:
        for index, entry in enumerate(parsed.document.tools):
            slug = entry.resolved_slug
            where = f"tools[{index}] (slug '{slug}')"
            if not slug:
                problems.append(
                    Problem(
                        parsed.path,
                        parsed.line_of("tools", index, "name"),
                        where,
                        "cannot derive a slug from this name; give a 'slug'",
                    )
                )
            elif slug in seen_tools:
                problems.append(
                    Problem(
                        parsed.path,
                        parsed.line_of("tools", index, "slug"),
                        f"{where}, field 'slug'",
                        f"duplicate tool slug (first at {seen_tools[slug]})",
                    )
                )
            seen_tools[slug] = f"{parsed.path}:{parsed.line_of('tools', index)}"
            if entry.category not in category_slugs:
                problems.append(
                    Problem(
                        parsed.path,
                        parsed.line_of("tools", index, "category"),
                        f"{where}, field 'category'",
                        f"unknown category '{entry.category}'",
                    )
                )
    problems += _identifier_problems(files)
    if problems:
        raise CatalogError(problems)


IDENTIFIERS = ("huggingface_id", "openrouter_slug", "github_repo", "homepage_domain")


def _identifiers(entry: ToolEntry) -> dict[str, str]:
    domain = entry.homepage_domain
    return {
        "huggingface_id": entry.huggingface_id or "",
        "openrouter_slug": entry.openrouter_slug or "",
        "github_repo": (entry.github_repo or "").lower(),
        "homepage_domain": tool_domain(entry.homepage) if domain is None else domain,
    }


def _identifier_problems(files: list[ParsedFile]) -> list[Problem]:
    """An external identifier names one tool: refuse it on two tools (files or database)."""
    problems: list[Problem] = []
    for name in IDENTIFIERS:
        owners = dict(Tool.objects.exclude(**{name: ""}).values_list(name, "slug"))
        seen: dict[str, str] = {}
        for parsed in files:
            for index, entry in enumerate(parsed.document.tools):
                value, slug = _identifiers(entry)[name], entry.resolved_slug
                if not value:
                    continue
                other = seen.get(value) or owners.get(value)
                if other and other != slug:
                    problems.append(
                        Problem(
                            parsed.path,
                            parsed.line_of("tools", index, name) or parsed.line_of("tools", index),
                            f"tools[{index}] (slug '{slug}'), field '{name}'",
                            f"'{value}' already names the tool '{other}'",
                        )
                    )
                seen[value] = slug
    return problems


def _apply(instance, values: dict) -> bool:
    """Set changed attributes on `instance`; return whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _tool_values(entry: ToolEntry, category: Category, vendor: Vendor | None) -> dict:
    price = entry.entry_price
    return {
        "name": entry.name,
        "vendor": vendor,
        "category": category,
        "tagline": entry.tagline,
        "description": entry.description,
        "licence": entry.licence,
        "licence_kind": entry.licence_kind or "",
        "homepage": entry.homepage or "",
        "release_date": entry.release_date,
        "deployment": entry.deployment or "",
        "price_kind": price.kind if price else "",
        "price_amount": price.amount if price else None,
        "price_currency": price.currency if price else "USD",
        "price_period": (price.period or "") if price else "",
        "price_unit": price.unit if price else "",
        "aliases": "\n".join(entry.aliases),
        **_identifiers(entry),
    }


def _tier_rows(entry: ToolEntry) -> list[tuple]:
    return [(t.name, t.amount, t.currency, t.period or "", t.unit, t.notes) for t in entry.tiers]


def _source_rows(entry: ToolEntry) -> list[tuple]:
    return [(s.url, s.title, s.checked_on, s.snapshot) for s in entry.sources]


def _stored_tiers(tool: Tool) -> list[tuple]:
    return [(t.name, t.amount, t.currency, t.period, t.unit, t.notes) for t in tool.tiers.all()]


def _stored_sources(tool: Tool) -> list[tuple]:
    return [(s.url, s.title, s.checked_on, s.snapshot) for s in tool.sources.all()]


def _record_facts(tool: Tool, entry: ToolEntry) -> bool:
    """Record the entry's facts, one reading per source and time; return whether one changed.
    Facts the entry leaves out stay: other sources (ingest) may have given them."""
    readings: dict[tuple, dict] = {}
    for fact in entry.facts:
        readings.setdefault((fact.source, fact.title, fact.read_at), {})[fact.key] = fact.value
    changed = False
    for (url, title, read_at), values in readings.items():
        changes = facts_record(
            tool_id=tool.pk, source_url=url, source_title=title, read_at=read_at, values=values
        )
        changed |= bool(changes)
    return changed


def _vendor_for(entry: ToolEntry) -> Vendor | None:
    if not entry.vendor:
        return None
    vendor, _ = Vendor.objects.get_or_create(
        slug=slugify(entry.vendor), defaults={"name": entry.vendor}
    )
    if _apply(vendor, {"name": entry.vendor}) | (
        entry.vendor_homepage is not None and _apply(vendor, {"homepage": entry.vendor_homepage})
    ):
        vendor.save()
    return vendor


def _upsert_tool(entry: ToolEntry, categories: dict[str, Category], report: ImportReport) -> None:
    slug = entry.resolved_slug
    values = _tool_values(entry, categories[entry.category], _vendor_for(entry))
    tool = Tool.objects.filter(slug=slug).first()
    created = tool is None
    if created:
        tool = Tool.objects.create(slug=slug, **values)
        changed = True
    else:
        changed = _apply(tool, values)
        if changed:
            tool.save()
    if created or _stored_tiers(tool) != _tier_rows(entry):
        tool.tiers.all().delete()
        PaidTier.objects.bulk_create(
            PaidTier(
                tool=tool, name=n, amount=a, currency=c, period=p, unit=u, notes=no, position=i
            )
            for i, (n, a, c, p, u, no) in enumerate(_tier_rows(entry))
        )
        changed = True
    if created or _stored_sources(tool) != _source_rows(entry):
        tool.sources.all().delete()
        Source.objects.bulk_create(
            Source(tool=tool, url=u, title=t, checked_on=d, snapshot=s, position=i)
            for i, (u, t, d, s) in enumerate(_source_rows(entry))
        )
        changed = True
    wanted_tags = set(entry.tags)
    if created or set(tool.tags.values_list("name", flat=True)) != wanted_tags:
        tool.tags.set([Tag.objects.get_or_create(name=name)[0] for name in sorted(wanted_tags)])
        changed = True
    changed |= _record_facts(tool, entry)
    if created:
        report.created.append(slug)
    elif changed:
        report.updated.append(slug)
    else:
        report.unchanged.append(slug)


def catalog_import(*, path: Path) -> ImportReport:
    """Import a catalog file or folder atomically: on any error nothing is written."""
    files = parse_path(Path(path))
    report = ImportReport()
    with transaction.atomic():
        _check_references(files)
        for parsed in files:
            for entry in parsed.document.categories:
                category, made = Category.objects.get_or_create(
                    slug=entry.slug, defaults={"name": entry.name, "description": entry.description}
                )
                if not made and _apply(
                    category, {"name": entry.name, "description": entry.description}
                ):
                    category.save()
        categories = {c.slug: c for c in Category.objects.all()}
        for parsed in files:
            for entry in parsed.document.tools:
                _upsert_tool(entry, categories, report)
    if changed := report.created + report.updated:
        # Cached pages showing these tools (and site-wide lists) must re-render.
        tools_touch(*Tool.objects.filter(slug__in=changed).values_list("pk", flat=True))
    return report


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _drop_empty(values: dict) -> dict:
    return {k: v for k, v in values.items() if v not in ("", None, [])}


def _fact_value(value):
    if isinstance(value, Decimal):
        return _number(value)
    return list(value) if isinstance(value, tuple) else value


def _read_out(read_at: dt.datetime) -> dt.datetime | dt.date:
    """A reading at the first moment of a day (UTC) is written as the day."""
    read_at = read_at.astimezone(dt.UTC)
    return read_at.date() if read_at.time() == dt.time() else read_at


def _fact_documents(tool: Tool) -> list[dict]:
    """The tool's facts that have a source (a catalog file's facts need one), key by key."""
    documents = []
    for fact in sorted(
        (f for f in tool.facts.all() if f.key in FACTS and f.source_url),
        key=lambda f: (ORDER[f.key], f.source_url),
    ):
        try:
            value = FACTS[fact.key].load(fact.value)
        except FactError:  # stored before the registry refused it: the file could not load it
            continue
        documents.append(
            _drop_empty(
                {
                    "key": fact.key,
                    "value": _fact_value(value),
                    "source": fact.source_url,
                    "title": fact.source_title,
                    "read": _read_out(fact.read_at),
                }
            )
        )
    return documents


def _tool_document(tool: Tool) -> dict:
    price = None
    if tool.price_kind:
        price = _drop_empty(
            {
                "kind": tool.price_kind,
                "amount": _number(tool.price_amount) if tool.price_amount is not None else None,
                "currency": tool.price_currency if tool.price_amount is not None else None,
                "period": tool.price_period,
                "unit": tool.price_unit,
            }
        )
    document = _drop_empty(
        {
            "name": tool.name,
            "slug": tool.slug,
            "vendor": tool.vendor.name if tool.vendor else "",
            "vendor_homepage": tool.vendor.homepage if tool.vendor else "",
            "category": tool.category.slug,
            "tagline": tool.tagline,
            "description": tool.description,
            "licence": tool.licence,
            "licence_kind": tool.licence_kind,
            "homepage": tool.homepage,
            "release_date": tool.release_date,
            "deployment": tool.deployment,
            "entry_price": price,
            "tiers": [
                _drop_empty(
                    {
                        "name": t.name,
                        "amount": _number(t.amount) if t.amount is not None else None,
                        "currency": t.currency,
                        "period": t.period,
                        "unit": t.unit,
                        "notes": t.notes,
                    }
                )
                for t in tool.tiers.all()
            ],
            "sources": [
                _drop_empty(
                    {
                        "url": s.url,
                        "title": s.title,
                        "checked_on": s.checked_on,
                        "snapshot": s.snapshot,
                    }
                )
                for s in tool.sources.all()
            ],
            "tags": [t.name for t in tool.tags.all()],
            "aliases": tool.alias_list,
            "huggingface_id": tool.huggingface_id,
            "openrouter_slug": tool.openrouter_slug,
            "github_repo": tool.github_repo,
            "facts": _fact_documents(tool),
        }
    )
    # Written only when it is not what the homepage implies ("" included), so files stay short.
    if tool.homepage_domain != tool_domain(tool.homepage):
        document["homepage_domain"] = tool.homepage_domain
    return document


def catalog_documents() -> dict[str, dict]:
    """Return the whole catalog as one document per category slug."""
    tools = (
        Tool.objects.with_relations()
        .prefetch_related("tiers", "sources", "facts")
        .order_by("category__slug", "slug")
    )
    documents: dict[str, dict] = {}
    for category in Category.objects.order_by("slug"):
        documents[category.slug] = {
            "categories": [
                _drop_empty(
                    {
                        "slug": category.slug,
                        "name": category.name,
                        "description": category.description,
                    }
                )
            ],
            "tools": [],
        }
    for tool in tools:
        documents[tool.category.slug]["tools"].append(_tool_document(tool))
    return documents


def _dump(document: dict) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def catalog_export(*, path: Path | None = None) -> str:
    """Export the catalog as YAML: to a folder (a file per category), a file, or return it."""
    documents = catalog_documents()
    if path is not None and Path(path).is_dir():
        for slug, document in documents.items():
            (Path(path) / f"{slug}.yaml").write_text(_dump(document), encoding="utf-8")
        return ""
    merged = {
        "categories": [c for d in documents.values() for c in d["categories"]],
        "tools": [t for d in documents.values() for t in d["tools"]],
    }
    text = _dump(merged)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


STARTER_CATALOG = Path(__file__).resolve().parent / "starter"


def catalog_load_starter() -> ImportReport | None:
    """Load the bundled starter catalog when the database holds no tools yet."""
    if Tool.objects.exists():
        return None
    return catalog_import(path=STARTER_CATALOG)
