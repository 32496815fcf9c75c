"""Django's file cache, culled now and then instead of listing the whole folder on every set."""

import random

from django.core.cache.backends.filebased import FileBasedCache

CULL_CHANCE = 0.01


class FileCache(FileBasedCache):
    """Shared by every process on the machine: rendered pages (their stamps are rows)."""

    def _cull(self) -> None:
        # The stock backend lists every file on each set: O(entries) per page render.
        if random.random() < CULL_CHANCE:
            super()._cull()
