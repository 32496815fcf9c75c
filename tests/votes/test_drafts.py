"""Readers' figures never set a draft panel's figure beside them; their votes still count."""

import pytest
from django.test import Client

from shipwith.votes import services
from shipwith.votes.leaderboard import ratings_refit
from shipwith.votes.models import ToolTally
from tests.factories import make_panel

pytestmark = pytest.mark.django_db

EMBEDDED = {"provider": "local", "model_id": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def test_a_draft_panel_never_disagrees_with_readers(tools, settings):
    settings.SHIPWITH_VOTES_MIN = 5
    alpha, beta = tools[0], tools[1]
    make_panel(alpha, "ssss", **EMBEDDED)
    make_panel(beta, "ssss")
    for tool in (alpha, beta):
        ToolTally.objects.create(tool=tool, ships=0, skips=12)
    widget = Client().get("/tools/alpha/vote/").text
    assert "Panel and community disagree" not in widget and "100%" not in widget
    assert "the panel says ship at 100%" in Client().get("/tools/beta/vote/").text


def test_the_leaderboard_ranks_a_draft_tool_by_readers_votes_with_no_panel_figure(client, tools):
    a, b, c = tools
    make_panel(a, "sskk", **EMBEDDED)
    for left, right in [(a, b)] * 6 + [(b, c)] * 6:
        services.pair_vote_cast(
            voter_id=services.voter_create().pk, tool_a_id=left.pk, tool_b_id=right.pk, choice="a"
        )
    ratings_refit(rounds=20)
    page = client.get("/leaderboard/").text
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert "Alpha Serve" in rows[0]
    assert "%" not in page.split("<tbody>")[1] and "ship" not in rows[0].lower()
