"""The verdict badge: a README shield showing a tool's panel ship figure."""

from shipwith.panel.selectors import PanelSummary

LABEL = "shipwith panel"
# Verdana 11px averages about 6.5px a character; shields pad each side by 6px.
CHAR_WIDTH = 6.5
PAD = 12
SHIP_GREEN = "#1b7a3a"
MIXED_AMBER = "#8a5a00"
SKIP_RED = "#b0322a"
GREY = "#555"


def _width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH) + PAD


def badge_parts(panel: PanelSummary) -> dict:
    """Text, colours and geometry of a tool's badge."""
    if panel.is_draft:  # a draft's ships are no verdict: no figure, whatever its count
        message = "draft · no verdict yet"
        colour = GREY
    elif panel.ship_percent is None:
        message = f"incomplete · {panel.completed} of {panel.seats}"
        colour = GREY
    else:
        message = f"{panel.ship_percent}% ship · {panel.ships} of {panel.completed}"
        colour = (
            SHIP_GREEN
            if panel.ship_percent >= 75
            else (MIXED_AMBER if panel.ship_percent >= 50 else SKIP_RED)
        )
    left, right = _width(LABEL), _width(message)
    return {
        "label": LABEL,
        "message": message,
        "colour": colour,
        "left": left,
        "right": right,
        "width": left + right,
        "label_x": left / 2,
        "message_x": left + right / 2,
    }
