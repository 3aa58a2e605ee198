"""A real OpenID provider (oidc-provider-mock: Authlib's authorization server on Flask, RS256
ID tokens, discovery, JWKS, refresh tokens) on a free port of this machine, and a real
callboard server whose `[oidc]` names it. People are the provider's users: their claims are
set through its own API (PUT /users/SUB)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import authlib.deprecate  # noqa: F401 (its "always" filter first, ours over it)
import httpx
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import migrate
from app.auth.service import create_token
from app.config import CallboardConfig, store_config
from tests.app.conftest import anonymous, app, make_token  # noqa: F401
from tests.conftest import LIVE_TEAMS, libpq
from tests.e2e.conftest import CONFIG, Server, browser  # noqa: F401 (the fixture)

with warnings.catch_warnings():
    # the provider imports authlib.jose, which Authlib deprecates in favour of joserfc
    warnings.simplefilter("ignore", DeprecationWarning)
    from oidc_provider_mock import run_server_in_thread

CLIENT_ID = "callboard"
GROUPS = {
    "maria": ["callboard-north", "staff"],
    "olga": ["callboard-admins"],
    "sam": ["callboard-north", "callboard-south"],
    "nobody": ["staff"],
}


def oidc_section(issuer: str, secret_file: Path, *, attempts: int = 1000) -> str:
    return f"""
[oidc]
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret_file = "{secret_file}"
claim = "groups"
attempts_per_min = {attempts}
[oidc.roles]
"callboard-admins" = "admin"
"callboard-north" = "supervisor:north"
"callboard-south" = "supervisor:south"
"""


class Provider:
    def __init__(self, base: str) -> None:
        self.base = base

    def user(self, sub: str, **claims: Any) -> None:
        """The provider's user `sub` with these claims (in its ID tokens)."""
        body = {"name": sub.title(), "groups": GROUPS.get(sub, []), **claims}
        r = httpx.put(f"{self.base}/users/{sub}", json=body, timeout=10)
        assert r.status_code == 204, r.text

    def forget(self, sub: str) -> None:
        """The provider no longer knows the person: their tokens are revoked."""
        r = httpx.post(f"{self.base}/users/{sub}/revoke-tokens", timeout=10)
        assert r.status_code == 204, r.text


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with run_server_in_thread(port=0, require_nonce=True) as server:
            provider = Provider(f"http://localhost:{server.server_port}")
            for sub in GROUPS:
                provider.user(sub)
            yield provider


@pytest.fixture(scope="module")
def module_db(server_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A committed database of this module (one server serves its tests)."""
    url = make_url(server_url)
    name = f"callboard_oidc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db_url = url.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(db_url)
    with engine.begin() as c:
        migrate.upgrade(c)
    engine.dispose()
    with psycopg.connect(libpq(db_url)) as conn:
        store_config(conn, CallboardConfig.model_validate({"teams": LIVE_TEAMS}), origin="test")
        tokens = {
            "admin": create_token(conn, role="admin"),
            "ingest": create_token(conn, role="ingest"),
        }
        conn.commit()
    try:
        yield db_url, tokens
    finally:
        with psycopg.connect(libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server(url: str, folder: Path, provider: Provider, *, attempts: int = 1000) -> Server:
    secret = folder / "client_secret"
    secret.write_text("s3cret-of-the-client\n", encoding="utf-8")
    srv = Server(url, folder, CONFIG + oidc_section(provider.base, secret, attempts=attempts))
    srv.start()
    return srv


@pytest.fixture(scope="module")
def signin_server(
    module_db: tuple[str, dict[str, str]],
    provider: Provider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, Provider, str]]:
    url, _ = module_db
    srv = start_server(url, tmp_path_factory.mktemp("oidc"), provider)
    try:
        yield srv, provider, url
    finally:
        srv.stop()
