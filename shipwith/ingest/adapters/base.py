"""The adapter boundary: one small class per source kind, as the LLM layer has one per provider.

An adapter fetches through the one `Fetcher` it is given (never httpx directly, so the SSRF
guard, size caps, conditional GET and politeness apply to every request) and yields `Item`s in
our normalised shape, or an `ItemProblem` for an item it cannot read. A failure of the whole
source (unreachable, malformed body) raises `shipwith.ingest.fetch.FetchError` or
`SourceFormatError`; the runner records it on the source row and goes on with the others.
A listing answered 304 Not Modified yields nothing: nothing changed.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

from shipwith.ingest.items import Item, ItemProblem


class SourceFormatError(Exception):
    """The source answered, but not in its documented format."""


class Adapter(ABC):
    kind: ClassVar[str]  # "openrouter", "huggingface", "hackernews", "feed", "github", "modelsdev"
    default_url: ClassVar[str] = ""  # the public endpoint, when the kind has one
    autopublish_allowed: ClassVar[bool] = True  # False for hackernews

    def __init__(self, *, url: str, options: dict[str, Any], fetcher: Any) -> None:
        self.url = url or self.default_url
        self.options = options
        self.fetcher = fetcher

    @abstractmethod
    def items(self) -> Iterator[Item | ItemProblem]:
        """Fetch the source and yield what it mentions, newest first when it has an order."""
