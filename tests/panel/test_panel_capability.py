"""One place decides whether a model's text is a draft's: the embedded model's, however named."""

import pytest

from shipwith.panel.models import is_low_capability


@pytest.mark.parametrize(
    ("name", "low"),
    [
        ("local", True),
        ("local:SmolLM2-135M-Instruct.Q4_1.gguf", True),
        (" Local:other.gguf", True),
        ("openai:gpt-4o-mini", False),
        ("anthropic:claude-sonnet", False),
        ("openai:local", False),  # a model id is no provider
        ("", False),
    ],
)
def test_the_embedded_model_is_low_capability_by_provider_or_spec(name, low):
    assert is_low_capability(name) is low
