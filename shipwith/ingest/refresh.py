"""Facts kept fresh: re-fetch the catalog's source pages, each with its own validators."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from shipwith.catalog.models import Source
from shipwith.core.freshness import tools_touch
from shipwith.ingest.errors import ERROR_CHARS
from shipwith.ingest.fetch import Fetcher
from shipwith.ingest.pages import page_fetch


@dataclass
class RefreshReport:
    fetched: int = 0
    not_modified: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.fetched} pages fetched and stored, {self.not_modified} unchanged (304), "
            f"{len(self.errors)} failed"
        )


class _SourceValidators:
    """The validator store for one catalog source: its own etag and last_modified columns."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.put_values: tuple[str, str] | None = None

    def get(self, url: str) -> tuple[str, str] | None:
        if url == self.source.url and (self.source.etag or self.source.last_modified):
            return self.source.etag, self.source.last_modified
        return None

    def put(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if url == self.source.url:
            self.put_values = ((etag or "")[:200], (last_modified or "")[:100])


SNAPSHOT_CHARS = 20_000


def source_refresh(*, source_id: int, fetcher: Fetcher) -> bool:
    """Fetch one source page (conditional GET); store its text and date only when it was
    fetched (200). Return whether it was; a 304 changes nothing; errors raise FetchError."""
    source = Source.objects.get(pk=source_id)
    store = _SourceValidators(source)
    page = page_fetch(source.url, fetcher=fetcher, validators=store)
    if page is None:
        return False
    etag, last_modified = store.put_values or ("", "")
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(
            snapshot=page.text[:SNAPSHOT_CHARS],
            title=source.title or page.title[:200],
            checked_on=page.fetched_at.date(),
            etag=etag,
            last_modified=last_modified,
        )
        transaction.on_commit(lambda: tools_touch(source.tool_id))
    return True


def sources_refresh(*, tick: Callable[[], None] = lambda: None) -> RefreshReport:
    """Re-fetch every tool's source pages; one failing page never stops the others."""
    report = RefreshReport()
    # One Fetcher for the run: its host pacing and robots.txt cache span every page.
    with Fetcher() as fetcher:
        for source_id, url in Source.objects.order_by("pk").values_list("pk", "url"):
            tick()
            try:
                fetched = source_refresh(source_id=source_id, fetcher=fetcher)
            except Exception as exc:  # noqa: BLE001 - report it, go on with the next page
                report.errors.append(f"{url}: {type(exc).__name__}: {exc}"[:ERROR_CHARS])
                continue
            if fetched:
                report.fetched += 1
            else:
                report.not_modified += 1
    return report
