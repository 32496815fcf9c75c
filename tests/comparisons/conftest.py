# The pages' own fixture: a fresh page cache per test, read afresh on every request.
from tests.web.conftest import fresh_cache  # noqa: F401
