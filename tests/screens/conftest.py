"""The API test fixtures (an app on the test transaction, clients, tokens)."""

from tests.app.conftest import anonymous, app, client, make_token

__all__ = ["anonymous", "app", "client", "make_token"]
