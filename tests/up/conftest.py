from tests.panel.conftest import model_server  # noqa: F401 (a fixture: a loopback model server)
