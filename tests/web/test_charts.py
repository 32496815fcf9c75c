import re

from shipwith.panel.selectors import PanelSummary
from shipwith.web.templatetags.pages import panel_split


def test_an_empty_panel_draws_four_separate_seats():
    seats = panel_split(PanelSummary(seats=4))["seats"]

    assert [seat["x"] for seat in seats] == [0, 26, 52, 78]
    assert all(seat["verdict"] == "none" for seat in seats)


def test_the_split_chart_places_every_seat_once(client, db):
    from django.template.loader import render_to_string

    svg = render_to_string("web/charts/split.svg", panel_split(PanelSummary(seats=4)))

    assert sorted(re.findall(r'<rect[^>]* x="(\d+)"', svg)) == ["0", "26", "52", "78"]
