"""Is this item a tool we already know? Exact identifiers, then homepage, then the name.

Three passes, strictest first, against the catalog (names and aliases) and the open
candidates: (1) an exact external identifier (Hugging Face id, OpenRouter slug, GitHub repo);
(2) the normalised homepage domain; (3) the name, normalised (case, punctuation, a leading
vendor, "Instruct"/"Chat" suffixes, snapshot dates and a trailing "v0.x" revision do not
count) and compared with rapidfuzz.
A fuzzy name match needs the same numbers ("Llama 3.1 8B" is not "Llama 3.1 70B") and a vendor
that does not contradict; an extra word is a different tool ("Qwen2.5-Coder" is not "Qwen2.5").
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

# Fuzzy pass: similarity of the compact names (0-100) at or above which two names are one tool.
NAME_THRESHOLD = 90
# Words that name a variant of the same tool, not a different one.
NOISE = frozenset({"instruct", "chat", "it", "hf", "latest", "model", "the", "v", "ai", "app"})
_DATE = re.compile(r"\b20\d\d-?[01]\d-?[0-3]\d\b|\(.*?\)")
_TOKEN = re.compile(r"\d+(?:\.\d+)*|[a-z]+")
# A trailing pre-1.0 revision ("-v0.3", "-v01") marks a checkpoint of the same model.
_REVISION = re.compile(r"[-_ ]v0\d*(?:\.\d+)*\s*$")


@dataclass(frozen=True)
class NameKey:
    tokens: tuple[str, ...]
    numbers: frozenset[str]

    @property
    def compact(self) -> str:
        return "".join(self.tokens)

    @property
    def sorted_compact(self) -> str:
        return "".join(sorted(self.tokens))


@lru_cache(maxsize=65536)
def _tokens(text: str, keep_noise: bool = False) -> tuple[str, ...]:
    text = _DATE.sub(" ", text.lower().replace("&", " and ").replace("+", " plus "))
    text = _REVISION.sub(" ", text.strip())
    return tuple(t for t in _TOKEN.findall(text) if keep_noise or t not in NOISE)


def _key(tokens: tuple[str, ...]) -> NameKey:
    return NameKey(tokens, frozenset(t for t in tokens if t[0].isdigit()))


def name_keys(name: str, vendors: Iterable[str] = ()) -> list[NameKey]:
    """The name's normalised forms: as given, and without a leading vendor ("Meta Llama 3");
    each without and with the variant words ("Instruct", "AI": "crew ai" is "CrewAI")."""
    # "Meta: Llama 3.1 8B" (OpenRouter) and "meta-llama/Llama-3.1-8B" (Hugging Face).
    name = name.rsplit("/", 1)[-1]
    if ": " in name:
        name = name.split(": ", 1)[1]
    keys = []
    for tokens in (_tokens(name), _tokens(name, keep_noise=True)):
        if not tokens:
            continue
        keys.append(tokens)
        for vendor in vendors:
            vendor_tokens = _tokens(vendor)
            size = len(vendor_tokens)
            if size and tokens[:size] == vendor_tokens and len(tokens) > size:
                keys.append(tokens[size:])
            # "Mistral AI" / "mistralai", "Meta" / "meta-llama": the first word is the vendor.
            elif (
                vendor_tokens
                and len(tokens) > 1
                and tokens[0] in {"".join(vendor_tokens), *vendor_tokens}
            ):
                keys.append(tokens[1:])
    return [_key(tokens) for tokens in dict.fromkeys(keys)]


def vendor_key(vendor: str) -> str:
    return "".join(_tokens(vendor.rsplit("/", 1)[0] if "/" in vendor else vendor))


def vendors_agree(ours: Iterable[str], theirs: Iterable[str]) -> bool:
    """No contradiction: one side unknown, or some pair alike ("meta-llama" and "Meta")."""
    a = {k for k in map(vendor_key, ours) if k}
    b = {k for k in map(vendor_key, theirs) if k}
    if not a or not b:
        return True
    return any(x == y or x.startswith(y) or y.startswith(x) for x in a for y in b)


def slug_variants(slug: str) -> list[str]:
    """An OpenRouter slug and the same without a snapshot date ("…-2024-05-13", "…-20240513")."""
    slug = slug.strip().lower()
    bare = re.sub(r"-20\d\d-?[01]\d-?[0-3]\d$", "", slug)
    return [slug] if bare == slug else [slug, bare]


@dataclass
class Entry:
    """Something an item can be: a catalog tool or a candidate."""

    ref: tuple[str, int]  # ("tool", pk) or ("candidate", pk)
    names: list[str]
    vendors: list[str] = field(default_factory=list)
    huggingface: str = ""
    openrouter: str = ""
    github: str = ""
    domain: str = ""


@dataclass(frozen=True)
class Match:
    ref: tuple[str, int]
    how: str  # "huggingface id", "openrouter slug", "github repo", "homepage", "name"


class Index:
    """Lookups for one run: exact dicts for identifiers, buckets of names for the fuzzy pass."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._ids: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
        self._vendors: dict[tuple[str, int], list[str]] = {}
        self._exact: dict[str, list[tuple[str, int]]] = defaultdict(list)
        # Fuzzy candidates share the numbers and the first letter: a cheap, safe blocking key.
        self._buckets: dict[tuple, list[tuple[frozenset, tuple[str, int]]]] = defaultdict(list)
        self._choices: dict[tuple, list[str]] = defaultdict(list)
        for entry in entries:
            self.add(entry)

    def add(self, entry: Entry) -> None:
        for kind in ("huggingface", "github"):
            if value := getattr(entry, kind).strip().lower():
                self._ids[kind].setdefault(value, entry.ref)
        if entry.openrouter:
            for slug in slug_variants(entry.openrouter):
                self._ids["openrouter"].setdefault(slug, entry.ref)
        if entry.domain:
            self._ids["domain"].setdefault(entry.domain.lower(), entry.ref)
        vendors = [v for v in entry.vendors if v]
        self._vendors[entry.ref] = vendors
        # "Microsoft AutoGen" is AutoGen by Microsoft.
        names = [*entry.names, *(f"{v} {n}" for v in vendors for n in entry.names)]
        for name in names:
            for key in name_keys(name, vendors):
                for text in {key.compact, key.sorted_compact}:
                    if entry.ref not in self._exact[text]:
                        self._exact[text].append(entry.ref)
                for block in _blocks(key, len(key.sorted_compact)):
                    self._buckets[block].append((frozenset(key.tokens), entry.ref))
                    self._choices[block].append(key.sorted_compact)

    def match(
        self,
        *,
        name: str,
        vendor: str | None = None,
        huggingface: str | None = None,
        openrouter: str | None = None,
        github: str | None = None,
        domain: str | None = None,
    ) -> Match | None:
        exact = [
            ("huggingface id", "huggingface", [huggingface.lower()] if huggingface else []),
            ("openrouter slug", "openrouter", slug_variants(openrouter) if openrouter else []),
            ("github repo", "github", [github.lower()] if github else []),
            ("homepage", "domain", [domain.lower()] if domain else []),
        ]
        for how, kind, values in exact:
            for value in values:
                if ref := self._ids[kind].get(value):
                    return Match(ref, how)
        return self._match_name(name, vendor)

    def _match_name(self, name: str, vendor: str | None) -> Match | None:
        vendors = [vendor] if vendor else []
        # "meta-llama/Llama-3.1-8B": the owner may lead the name too; it is a handle, not a
        # vendor's name, so it strips but never contradicts ("milvus-io" makes Zilliz's Milvus).
        strip = [*vendors, name.split("/", 1)[0]] if "/" in name else vendors
        keys = name_keys(name, strip)
        for key in keys:
            for text in (key.compact, key.sorted_compact):
                for ref in self._exact.get(text, ()):
                    if vendors_agree(vendors, self._vendors[ref]):
                        return Match(ref, "name")
        for key in keys:
            tokens = frozenset(key.tokens)
            size = len(key.sorted_compact)
            # Two strings this similar differ in length by less than a fifth.
            for length in range(int(size * 0.8), int(size / 0.8) + 1):
                for block in _blocks(key, length):
                    if block not in self._choices:
                        continue
                    for _, _, position in process.extract(
                        key.sorted_compact,
                        self._choices[block],
                        scorer=fuzz.ratio,
                        score_cutoff=NAME_THRESHOLD,
                        limit=3,
                    ):
                        theirs, ref = self._buckets[block][position]
                        # A whole word more is another tool ("Qwen2.5 VL 7B" is not "Qwen2.5 7B").
                        if tokens < theirs or theirs < tokens:
                            continue
                        if vendors_agree(vendors, self._vendors[ref]):
                            return Match(ref, "name")
        return None


def _blocks(key: NameKey, length: int) -> tuple[tuple, tuple]:
    """Where the fuzzy pass looks: the same numbers and length, and the same first or last
    three letters (a typo rarely touches both ends)."""
    return (
        ("head", key.numbers, key.compact[:3], length),
        ("tail", key.numbers, key.compact[-3:], length),
    )
