"""The source kinds: one adapter class each, found by the kind stored on a source row."""

from shipwith.ingest.adapters.base import Adapter, SourceFormatError
from shipwith.ingest.adapters.feed import FeedAdapter
from shipwith.ingest.adapters.github import GitHubAdapter
from shipwith.ingest.adapters.hackernews import HackerNewsAdapter
from shipwith.ingest.adapters.huggingface import HuggingFaceAdapter
from shipwith.ingest.adapters.modelsdev import ModelsDevAdapter
from shipwith.ingest.adapters.openrouter import OpenRouterAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    adapter.kind: adapter
    for adapter in (
        OpenRouterAdapter,
        HuggingFaceAdapter,
        HackerNewsAdapter,
        FeedAdapter,
        GitHubAdapter,
        ModelsDevAdapter,
    )
}


def adapter_for(kind: str) -> type[Adapter]:
    """The adapter class of `kind`; a clear error names the kinds there are."""
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise SourceFormatError(
            f"no source kind {kind!r} (kinds: {', '.join(sorted(ADAPTERS))})"
        ) from None


__all__ = ["ADAPTERS", "Adapter", "SourceFormatError", "adapter_for"]
