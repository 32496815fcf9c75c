"""Prompt files, versioned by directory (v1/, v2/…); a change to a file means a new directory."""

import secrets
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from string import Template

LAYOUT = "v1"


@cache
def template(name: str, layout: str = LAYOUT) -> Template:
    return Template(files(__package__).joinpath(layout, f"{name}.txt").read_text("utf-8"))


@dataclass(frozen=True)
class Fence:
    """Marker lines around untrusted material; random per run so the material cannot close it."""

    open: str
    close: str

    @classmethod
    def random(cls) -> "Fence":
        token = secrets.token_hex(8)
        return cls(open=f"<<<SOURCE {token}>>>", close=f"<<<END SOURCE {token}>>>")


def system_prompt() -> str:
    return template("system").substitute()


def shared_prefix(*, material: str, fence: Fence) -> str:
    """Instructions and source material: byte-identical for every persona of a run."""
    cleaned = material.replace(fence.open, "").replace(fence.close, "")
    return template("prefix").substitute(
        fence_open=fence.open, fence_close=fence.close, material=cleaned
    )


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
