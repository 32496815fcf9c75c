"""Writes to personas: an editor's change, and the prompt version it may bump."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from shipwith.core.freshness import site_touch
from shipwith.panel.models import Persona

# Fields whose change alters what the model is told, so reviews must name a new version.
PROMPT_FIELDS = frozenset({"name", "lens", "priorities", "deal_breakers", "voice"})


def persona_save(*, persona: Persona, changed_fields: Iterable[str]) -> Persona:
    """Save an editor's change; a change to the prompt text bumps the prompt version."""
    if persona.pk and PROMPT_FIELDS & set(changed_fields):
        persona.prompt_version = F("prompt_version") + 1
    persona.save()
    persona.refresh_from_db(fields=["prompt_version"])
    # Every take names its persona and the methodology page lists them: all pages change.
    transaction.on_commit(site_touch)
    return persona
