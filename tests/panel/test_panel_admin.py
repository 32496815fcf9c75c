"""Editors change personas in the admin; a change to the prompt text bumps its version."""

import pytest

from shipwith.panel.models import Persona
from shipwith.panel.prompts import LAYOUT

pytestmark = pytest.mark.django_db


def edit(client, persona: Persona, **changes):
    data = {
        field: getattr(persona, field)
        for field in ["key", "name", "position", "lens", "priorities", "deal_breakers", "voice"]
    }
    data |= {"model_spec": persona.model_spec, "active": "on" if persona.active else ""}
    data |= changes
    response = client.post(f"/admin/panel/persona/{persona.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    return Persona.objects.get(pk=persona.pk)


def test_editing_the_lens_bumps_the_prompt_version(admin_client, personas):
    skeptic = next(p for p in personas if p.key == "skeptic")
    edited = edit(admin_client, skeptic, lens="Name the rivals; find where it breaks.")
    assert edited.prompt_version == 2
    assert edited.lens == "Name the rivals; find where it breaks."


def test_moving_a_persona_keeps_the_prompt_version(admin_client, personas):
    skeptic = next(p for p in personas if p.key == "skeptic")
    assert edit(admin_client, skeptic, position=9).prompt_version == 1


def test_the_four_personas_look_for_different_things(personas):
    assert [p.name for p in personas] == ["Builder", "Skeptic", "Futurist", "Operator"]
    lenses = [set(p.lens.lower().split()) for p in personas]
    for i, one in enumerate(lenses):
        for other in lenses[i + 1 :]:
            overlap = len(one & other) / len(one | other)
            assert overlap < 0.3  # different lenses, not the same text in four voices


def test_the_methodology_reads_the_live_personas(admin_client, personas, settings):
    from shipwith.panel.selectors import methodology

    settings.SHIPWITH_LLM = "local"
    skeptic = next(p for p in personas if p.key == "skeptic")
    edit(admin_client, skeptic, voice="Terse.")
    page = methodology()
    assert [p.name for p in page.personas] == ["Builder", "Skeptic", "Futurist", "Operator"]
    assert page.personas[1].voice == "Terse." and page.personas[1].prompt_version == 2
    assert "word for word" in page.rules and page.prompt_layout == LAYOUT
    assert page.default_is_low_capability
