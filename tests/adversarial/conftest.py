"""The app fixtures of tests/app (a TestClient on the test's transaction), and a real server
on loopback (tests/e2e's Server) for floods, logs and signals."""

from tests.app.conftest import anonymous, app, make_token  # noqa: F401
from tests.e2e.conftest import Server, server  # noqa: F401
from tests.live.conftest import live_client  # noqa: F401
