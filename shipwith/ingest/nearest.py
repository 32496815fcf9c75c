"""The catalog tools nearest a candidate by name, and why dedupe did not take them for it.

An editor who suspects a duplicate sees the few likeliest tools with the reasons in dedupe's
own terms: the name's similarity against the threshold, numbers or a whole word that differ,
a vendor that contradicts, identifiers shared or different. Whether dedupe would match a tool
*now* (it may have been added after the candidate) is asked of dedupe itself, never guessed.
"""

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from shipwith.catalog.models import Tool
from shipwith.ingest.dedupe import NAME_THRESHOLD, Entry, Index, NameKey, name_keys, vendors_agree
from shipwith.ingest.models import Candidate

IDENTIFIERS = [
    ("huggingface", "huggingface_id", "Hugging Face id"),
    ("openrouter", "openrouter_slug", "OpenRouter slug"),
    ("github", "github_repo", "GitHub repository"),
    ("domain", "homepage_domain", "homepage domain"),
]


@dataclass(frozen=True)
class Nearest:
    """A catalog tool near a candidate: its name's similarity (0-100) and the reasons."""

    tool_id: int
    name: str
    slug: str
    vendor: str
    score: int
    matches: bool  # dedupe takes the candidate for this tool now
    reasons: tuple[str, ...]


def tool_entry(tool: Tool) -> Entry:
    """The tool as dedupe's index holds it (names and aliases, vendor, identifiers)."""
    return _entry(
        tool.pk,
        tool.name,
        tool.aliases,
        tool.vendor.name if tool.vendor_id else "",
        *(getattr(tool, column) for _, column, _ in IDENTIFIERS),
    )


def _entry(pk, name, aliases, vendor, huggingface, openrouter, github, domain) -> Entry:
    vendors = [vendor or ""]
    # The owner part of an identifier names the vendor too (as selectors.dedupe_entries says).
    vendors += [value.split("/", 1)[0] for value in (huggingface, openrouter) if "/" in value]
    names = [name, *(line.strip() for line in aliases.splitlines() if line.strip())]
    return Entry(("tool", pk), names, vendors, huggingface, openrouter, github, domain)


def candidate_matches(candidate: Candidate, entry: Entry) -> str | None:
    """How dedupe would match the candidate to this one entry now ("name", "github repo"…)."""
    match = Index([entry]).match(
        name=candidate.name,
        vendor=candidate.vendor or None,
        huggingface=candidate.huggingface_id or None,
        openrouter=candidate.openrouter_slug or None,
        github=candidate.github_repo or None,
        domain=candidate.homepage_domain or None,
    )
    return match.how if match else None


def _name_reason(score: int, ours: NameKey, theirs: NameKey) -> str | None:
    """Why the names alone keep them apart, or None when they do not."""
    similar = f"name {score}% similar"
    if score < NAME_THRESHOLD:
        return f"{similar}, below the {NAME_THRESHOLD}% threshold"
    if ours.numbers != theirs.numbers:
        a = " ".join(sorted(ours.numbers)) or "none"
        b = " ".join(sorted(theirs.numbers)) or "none"
        return f"{similar}, but different numbers ({a} vs {b})"
    a, b = set(ours.tokens), set(theirs.tokens)
    if a < b or b < a:
        return f'{similar}, but a whole word differs ("{" ".join(sorted(a ^ b))}")'
    return None


def _identifier_reasons(candidate: Candidate, entry: Entry) -> list[str]:
    reasons, shared = [], False
    for attribute, column, label in IDENTIFIERS:
        ours, theirs = getattr(candidate, column).lower(), getattr(entry, attribute).lower()
        if ours and theirs:
            shared = shared or ours == theirs
            if ours != theirs:
                reasons.append(f"different {label} ({ours} vs {theirs})")
    if not shared and not reasons:
        reasons.append("no shared identifier")
    return reasons


def _best_pair(ours: list[NameKey], entry: Entry) -> tuple[int, tuple | None]:
    """The most similar pair of the candidate's and the tool's name forms, as dedupe scores."""
    pairs = [(a, b) for a in ours for name in entry.names for b in name_keys(name, entry.vendors)]
    scored = [(round(fuzz.ratio(a.sorted_compact, b.sorted_compact)), (a, b)) for a, b in pairs]
    return max(scored, key=lambda item: item[0], default=(0, None))


def _shares_identifier(candidate: Candidate, entry: Entry) -> bool:
    return any(
        getattr(candidate, column) and getattr(candidate, column).lower() == value.lower()
        for value, column in ((getattr(entry, a), c) for a, c, _ in IDENTIFIERS)
    )


def _explain(candidate: Candidate, entry: Entry, ours: list[NameKey]) -> tuple[int, bool, list]:
    """The name's similarity, whether dedupe matches the tool now, and the reasons."""
    score, pair = _best_pair(ours, entry)
    if candidate.tool_id == entry.ref[1]:
        return score, True, ["the catalog tool this candidate is matched to"]
    if how := candidate_matches(candidate, entry):
        return score, True, [f"matches now by {how}: the tool changed or arrived since"]
    reasons = [_name_reason(score, *pair) if pair else "no letters or digits to compare"]
    if not vendors_agree([candidate.vendor], entry.vendors):
        theirs = next((v for v in entry.vendors if v), "")
        reasons.append(f"different vendor ({candidate.vendor} vs {theirs})")
    elif reasons == [None]:
        # Dedupe's fuzzy pass only compares names that begin or end with the same letters.
        reasons = [f"name {score}% similar, but neither its start nor its end is alike"]
    return score, False, [r for r in reasons if r] + _identifier_reasons(candidate, entry)


def tools_nearest(candidate: Candidate, *, limit: int = 5) -> list[Nearest]:
    """The `limit` catalog tools whose names (or aliases) are nearest the candidate's, after
    the tool it is matched to and any tool sharing an identifier; one query for the catalog."""
    rows = Tool.objects.values_list(
        "pk", "slug", "name", "aliases", "vendor__name", *(c for _, c, _ in IDENTIFIERS)
    )
    entries, slugs, choices, owners = {}, {}, [], []
    for pk, slug, *fields in rows:
        entries[pk], slugs[pk] = _entry(pk, *fields), slug
        for name in entries[pk].names:
            for key in name_keys(name, entries[pk].vendors):
                choices.append(key.sorted_compact)
                owners.append(pk)
    ours = name_keys(candidate.name, [candidate.vendor] if candidate.vendor else [])
    scores: dict[int, float] = {}
    for key in ours:
        # A tool has several name forms: ask for enough to fill `limit` distinct tools.
        for _, score, position in process.extract(
            key.sorted_compact, choices, scorer=fuzz.ratio, limit=limit * 8
        ):
            scores[owners[position]] = max(score, scores.get(owners[position], 0))
    by_name = sorted(scores, key=lambda pk: (-scores[pk], entries[pk].names[0].lower()))
    first = [
        pk
        for pk, entry in entries.items()
        if pk == candidate.tool_id or _shares_identifier(candidate, entry)
    ]
    nearest = []
    for pk in [*first, *(pk for pk in by_name if pk not in first)][: max(limit, len(first))]:
        entry = entries[pk]
        score, matches, reasons = _explain(candidate, entry, ours)
        vendor = next((v for v in entry.vendors if v), "")
        nearest.append(
            Nearest(pk, entry.names[0], slugs[pk], vendor, score, matches, tuple(reasons))
        )
    return nearest
