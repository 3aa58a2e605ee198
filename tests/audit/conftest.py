from tests.app.conftest import anonymous, app, make_token  # noqa: F401
