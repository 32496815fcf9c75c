"""The moderator's prompt files, versioned by directory as the panel's are (panel/prompts/).

A change to a file means a new directory and LAYOUT: every read records the layout it was
written with (`moderator.moderator_source`), so a new layout rewrites each read once. The
first layout kept in files is v2, the version the reads already stored carry.
"""

from functools import cache
from importlib.resources import files
from string import Template

LAYOUT = "v2"


@cache
def template(name: str, layout: str = LAYOUT) -> Template:
    return Template(files(__package__).joinpath(layout, f"{name}.txt").read_text("utf-8"))


def system_prompt() -> str:
    return template("system").substitute()


def read_prompt(*, a: str, b: str, takes_a: str, takes_b: str) -> str:
    """Ask for the read with A shown first; takes are material, substituted once, never parsed."""
    return template("read").substitute(a=a, b=b, takes_a=takes_a, takes_b=takes_b)
