"""Prompt files, versioned by directory (v1/, v2/…); a change to a file means a new directory.

Every review records the LAYOUT it was asked with (`Review.prompt_layout`); an older layout's
directory stays as it was, so the version a review names still says what it was asked.
tests/panel/test_panel_prompts.py holds each layout's digest and fails on an edit in place.
v2 adds the tool's facts table to the shared prefix.
"""

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from string import Template
from urllib.parse import urlsplit

from shipwith.catalog.selectors import FactReading, FactRow, FactSource

LAYOUT = "v2"
# The facts table shares the embedded model's 4,096 tokens with the rules, the material, the
# persona card and the answer: it stops at this many characters (about 400 tokens).
MAX_FACTS_CHARS = 1600


@cache
def template(name: str, layout: str = LAYOUT) -> Template:
    return Template(files(__package__).joinpath(layout, f"{name}.txt").read_text("utf-8"))


@dataclass(frozen=True)
class Fence:
    """Marker lines around untrusted material; random per run so the material cannot close it."""

    open: str
    close: str
    facts_open: str
    facts_close: str

    @classmethod
    def random(cls) -> "Fence":
        token = secrets.token_hex(8)
        return cls(
            open=f"<<<SOURCE {token}>>>",
            close=f"<<<END SOURCE {token}>>>",
            facts_open=f"<<<FACTS {token}>>>",
            facts_close=f"<<<END FACTS {token}>>>",
        )

    def clean(self, text: str) -> str:
        """The text without any of this fence's marker lines."""
        for marker in (self.open, self.close, self.facts_open, self.facts_close):
            text = text.replace(marker, "")
        return text


def system_prompt() -> str:
    return template("system").substitute()


def shared_prefix(*, material: str, facts: str, fence: Fence) -> str:
    """Instructions, the facts table and the source material: byte-identical for every persona
    of a run, so a server reuses its cache of the prefix for the next persona."""
    return template("prefix").substitute(
        facts_open=fence.facts_open,
        facts_close=fence.facts_close,
        facts=fence.clean(facts),
        fence_open=fence.open,
        fence_close=fence.close,
        material=fence.clean(material),
    )


def facts_table(rows: Sequence[FactRow], *, max_chars: int = MAX_FACTS_CHARS) -> str:
    """One line per fact: value, source, day read, stale or in conflict; within `max_chars`."""
    lines: list[str] = []
    for row in rows:
        notes = _line("fact_stale") if row.stale else ""
        if row.conflicts:
            other = row.conflicts[0]
            notes += _line("fact_conflict", source=_source_name(other.source), **_reading(other))
            if len(row.conflicts) > 1:
                notes += _line("fact_more", count=str(len(row.conflicts) - 1))
        line = _line(
            "fact",
            label=row.label,
            source=_source(row.source),
            notes=notes,
            **_reading(row),
        )
        if sum(len(each) + 1 for each in lines) + len(line) > max_chars:
            break
        lines.append(line)
    return "\n".join(lines)


def _line(name: str, **values: str) -> str:
    return template(name).substitute(**values).rstrip("\n")


def _reading(reading: FactRow | FactReading) -> dict[str, str]:
    return {
        "value": _short(reading.text, 60),
        "read_on": reading.read_at.astimezone(dt.UTC).date().isoformat(),
    }


def _source(source: FactSource | None) -> str:
    """ "Title (URL)", shortened: a table row must stay one short line."""
    url = _short(source.url, 70) if source else ""
    name = _source_name(source)
    return f"{name} ({url})" if url and name != url else name


def _source_name(source: FactSource | None) -> str:
    if source is None:
        return "not known"
    return _short(source.title, 50) or urlsplit(source.url).hostname or source.url


def _short(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def persona_card(persona, *, tool_name: str) -> str:
    """The persona's part, placed last so servers can reuse the shared prefix."""
    return template("persona").substitute(
        name=persona.name,
        lens=persona.lens.strip(),
        priorities=_bullets(persona.priorities),
        deal_breakers=_bullets(persona.deal_breakers),
        voice=persona.voice.strip(),
        tool_name=tool_name,
    )


def repair_prompt(problem: str) -> str:
    return template("repair").substitute(problem=problem)


def _bullets(text: str) -> str:
    return "\n".join(f"- {line.strip()}" for line in text.splitlines() if line.strip())
