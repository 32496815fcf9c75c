"""What a reviewer must return, as a pydantic model and as the JSON schema sent to models."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shipwith.core.text import plain_text

TAKE_WORDS = (80, 170)
# Character bounds that steer a grammar-constrained model into the word range: 760 characters
# hold at most 170 words unless words average under 4.5 characters with their space (a 135M
# model's 860 once held 172); 560 hold 80 words up to 7 characters a word. Hints only: the
# word count is the rule, so a capable model's 170 long words are not refused.
TAKE_CHARS = (560, 760)
SHORT = 200


class ReviewOutput(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    verdict: Literal["ship", "skip"]
    take: str
    confidence: int = Field(ge=1, le=5)
    competitors: list[str] = Field(default_factory=list, max_length=5)
    key_risk: str = Field(default="", max_length=SHORT)
    claim_to_pressure: str = Field(default="", max_length=SHORT)
    evidence_quotes: list[str] = Field(default_factory=list, max_length=3)

    @field_validator("take")
    @classmethod
    def take_in_range(cls, value: str) -> str:
        # Model output is text, never markup: anything tag-like is dropped before storing.
        value = plain_text(value)
        words = len(re.findall(r"\S+", value))
        low, high = TAKE_WORDS
        if not low <= words <= high:
            raise ValueError(f"take has {words} words; it must have {low} to {high}")
        return value

    @field_validator("key_risk", "claim_to_pressure")
    @classmethod
    def as_plain_text(cls, value: str) -> str:
        return plain_text(value)

    @field_validator("competitors")
    @classmethod
    def plain_names(cls, value: list[str]) -> list[str]:
        return [name for item in value if (name := plain_text(item or ""))]

    @field_validator("evidence_quotes")
    @classmethod
    def no_blank_items(cls, value: list[str]) -> list[str]:
        # Left as written: a quote must match the sources verbatim or it is dropped.
        return [item.strip() for item in value if item and item.strip()]


def _string(max_length: int, min_length: int = 0) -> dict:
    schema = {"type": "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return schema


def review_json_schema() -> dict:
    """The schema models see: every field required, nothing extra (OpenAI strict mode)."""
    return {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["ship", "skip"]},
            "take": _string(TAKE_CHARS[1], TAKE_CHARS[0]) | {"x-length-hint": True},
            "confidence": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
            "competitors": {"type": "array", "items": _string(40), "maxItems": 5},
            "key_risk": _string(SHORT),
            "claim_to_pressure": _string(SHORT),
            "evidence_quotes": {"type": "array", "items": _string(160), "maxItems": 3},
        },
        "required": [
            "verdict",
            "take",
            "confidence",
            "competitors",
            "key_risk",
            "claim_to_pressure",
            "evidence_quotes",
        ],
        "additionalProperties": False,
    }
