# The pages' own fixture: a fresh page cache per test, read afresh on every request.
from tests.panel.conftest import mock_model, personas  # noqa: F401 (the panel's fixtures)
from tests.web.conftest import fresh_cache  # noqa: F401
