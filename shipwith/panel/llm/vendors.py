"""Which company is behind a model, so a model never reviews its own vendor's tool."""

import re

# Matched against the model id (any provider prefix such as "anthropic/" included).
_FAMILIES = [
    (r"\b(gpt|chatgpt|o[1-9])\b|^(gpt|o[1-9])|openai/", "openai"),
    (r"claude|anthropic/", "anthropic"),
    (r"gemini|gemma|google/", "google"),
    (r"llama|meta-llama|meta/", "meta"),
    (r"mistral|mixtral|codestral|devstral|magistral|ministral|pixtral", "mistral-ai"),
    (r"qwen|qwq", "alibaba-cloud"),
    (r"deepseek", "deepseek"),
    (r"\bphi-?\d", "microsoft"),
    (r"smollm", "hugging-face"),
    (r"olmo|tulu", "ai2"),
    (r"nemotron|nvidia/", "nvidia"),
    (r"grok", "xai"),
]
# Only a provider that serves its own models alone says who made them; an embedded model's
# vendor comes from the file actually loaded, like any other model id.
_BY_PROVIDER = {"anthropic": "anthropic"}


def model_vendor(provider: str, model_id: str) -> str:
    """Return the vendor slug of a model, or "" when we cannot tell."""
    if provider in _BY_PROVIDER:
        return _BY_PROVIDER[provider]
    name = model_id.lower()
    for pattern, vendor in _FAMILIES:
        if re.search(pattern, name):
            return vendor
    return ""
