"""The validator store the Fetcher asks for conditional GETs, kept in the database.

Puts are held until `save()`: a source's validators are stored only once everything it
listed has been stored, so a run that failed half-way reads the whole listing again next time
instead of being told "304 Not Modified" about items it never kept.
"""

from shipwith.ingest.models import Validator


class ValidatorStore:
    """`conditional=False` sends no stored validators (a source's baseline must read its whole
    listing, never be told "304" about one another source row stored), but keeps new ones."""

    def __init__(self, *, conditional: bool = True) -> None:
        self._pending: dict[str, tuple[str, str]] = {}
        self.conditional = conditional

    def get(self, url: str) -> tuple[str, str] | None:
        if url in self._pending:
            return self._pending[url]
        if not self.conditional:
            return None
        row = Validator.objects.filter(url=url).values_list("etag", "last_modified").first()
        return tuple(row) if row else None

    def put(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self._pending[url] = ((etag or "")[:300], (last_modified or "")[:100])

    def save(self) -> None:
        """Store the validators put since the last save."""
        for url, (etag, last_modified) in self._pending.items():
            Validator.objects.update_or_create(
                url=url[:1000], defaults={"etag": etag, "last_modified": last_modified}
            )
        self._pending.clear()

    def discard(self) -> None:
        self._pending.clear()
