"""`[oidc]` read with clear errors; the claims' mapping to a role and teams; a server without
`[oidc]` says sign-in is not configured; sign-in attempts limited per address; a provider
that cannot be reached is a 502 that says so (all in process, no provider needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.audit.service import entries
from app.auth.attempts import Attempts
from app.auth.oidc_config import OidcConfig
from app.auth.sessions import grant, person
from app.config import CallboardConfig, ConfigError, load_config

BASE = {"issuer": "https://login.example.com/realms/floor", "client_id": "callboard"}
ROLES = {
    "callboard-admins": "admin",
    "callboard-north": "supervisor:north",
    "callboard-south": "supervisor:south",
    "callboard-tv": "wallboard",
}


NORTH_SOUTH = frozenset({"north", "south"})


def oidc(**more: Any) -> OidcConfig:
    return OidcConfig.model_validate({**BASE, "roles": ROLES, **more})


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["callboard-north"], ("supervisor", frozenset({"north"}))),
        (["callboard-north", "callboard-south", "x"], ("supervisor", NORTH_SOUTH)),
        (["callboard-north", "callboard-admins"], ("admin", frozenset())),
        (["callboard-tv"], ("wallboard", frozenset())),
        ("callboard-tv callboard-north", ("supervisor", frozenset({"north"}))),
        (["staff"], None),
        (None, None),
        ([7, {"x": 1}], None),
    ],
)
def test_the_claim_s_values_make_a_role_and_teams(groups: Any, expected: Any) -> None:
    claims = {"sub": "u1"} if groups is None else {"sub": "u1", "groups": groups}
    assert grant(oidc(), claims) == expected


def test_another_claim_and_a_person_s_name() -> None:
    config = oidc(claim="roles", name_claims=["preferred_username", "email"])
    assert grant(config, {"roles": ["callboard-admins"], "groups": []}) == ("admin", frozenset())
    assert person(config, {"sub": "x", "email": "m@example.com"}) == "m@example.com"
    assert person(config, {"sub": "x"}) == "x"


@pytest.mark.parametrize(
    ("section", "said"),
    [
        ({**BASE, "roles": {"g": "boss"}}, "is not a grant"),
        ({**BASE, "roles": {"g": "supervisor:west"}}, "names no [teams.west]"),
        ({**BASE, "roles": {}}, "roles"),
        ({"issuer": "http://login.example.com", "client_id": "c", "roles": ROLES}, "https"),
        ({"issuer": "login.example.com", "client_id": "c", "roles": ROLES}, "is not a URL"),
        ({**BASE, "roles": ROLES, "renew_min": 30, "idle_min": 30}, "must be under idle_min"),
        ({**BASE, "roles": ROLES, "scopes": ["openid profile"]}, "scopes"),
        ({**BASE, "roles": ROLES, "client_secret": "x"}, "client_secret"),
        ({"issuer": BASE["issuer"], "roles": ROLES}, "client_id"),
    ],
)
def test_a_wrong_oidc_section_is_a_clear_error(
    tmp_path: Path, section: dict[str, Any], said: str
) -> None:
    teams = {"north": {"agents": ["a1"]}, "south": {"agents": ["a3"]}}
    import tomli_w

    path = tmp_path / "callboard.toml"
    path.write_text(tomli_w.dumps({"teams": teams, "oidc": section}), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert said in str(error.value)
    assert "oidc" in str(error.value)


def test_the_client_secret_is_read_from_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("abc\n", encoding="utf-8")
    assert oidc(client_secret_file=str(secret)).secret() == "abc"
    assert oidc().secret() is None  # a public client: PKCE alone
    with pytest.raises(ValueError, match="client_secret_file"):
        oidc(client_secret_file=str(tmp_path / "missing")).secret()


def test_without_oidc_login_says_sign_in_is_not_configured(anonymous: TestClient) -> None:
    for path in ("/login", "/login/callback?state=x&code=y"):
        r = anonymous.get(path)
        assert r.status_code == 404
        assert "Sign-in is not configured" in r.text and "[oidc]" in r.text
    page = anonymous.get("/sup")
    assert page.status_code == 401 and "/login" not in page.text  # no link to nowhere
    assert anonymous.get("/logout").status_code == 200


@pytest.fixture
def with_oidc(app: FastAPI) -> Callable[..., TestClient]:
    """The app with an [oidc] whose provider does not answer (a closed port)."""

    def make(**more: Any) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        config = CallboardConfig.model_validate(
            {
                "teams": {"north": {}},
                "oidc": {
                    "issuer": "http://127.0.0.1:9",
                    "client_id": "callboard",
                    "roles": {"g": "supervisor:north"},
                    **more,
                },
            }
        )
        app.state.config = config
        return client

    return make


def test_a_provider_that_cannot_be_reached_is_a_502_that_says_so(
    with_oidc: Callable[..., TestClient], pg: psycopg.Connection[Any]
) -> None:
    client = with_oidc()
    try:
        r = client.get("/login", follow_redirects=False)
        assert r.status_code == 502
        assert "127.0.0.1:9" in r.text
        page = client.get("/sup")
        assert page.status_code == 401 and "/login?next=/sup" in page.text
    finally:
        client.__exit__(None, None, None)


def test_sign_in_attempts_are_limited_per_address(
    with_oidc: Callable[..., TestClient],
) -> None:
    client = with_oidc(attempts_per_min=3)
    try:
        statuses = [client.get("/login").status_code for _ in range(4)]
        assert statuses == [502, 502, 502, 429]
        r = client.get("/login/callback?state=x&code=y")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    finally:
        client.__exit__(None, None, None)


def test_attempts_count_per_address_and_age_out() -> None:
    attempts = Attempts(window_s=0.2)
    assert [attempts.wait_s("a", limit=2) for _ in range(3)] == [0, 0, 1]
    assert attempts.wait_s("b", limit=2) == 0
    import time

    time.sleep(0.25)
    assert attempts.wait_s("a", limit=2) == 0


def test_a_report_download_is_in_the_audit_trail(
    app: FastAPI, make_token: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    token = make_token("supervisor", teams=("north",))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as c:
        args = "from=2026-12-01&to=2026-12-02"
        assert c.get(f"/api/v1/reports/queues?{args}").status_code == 200  # shown: not a file
        for fmt in ("csv", "xlsx"):
            assert c.get(f"/api/v1/reports/queues?{args}&format={fmt}").status_code == 200
    got = entries(pg, action="report")
    assert [e["target"] for e in got] == [
        "callboard-queues-queue-2026-12-01-2026-12-02.xlsx",
        "callboard-queues-queue-2026-12-01-2026-12-02.csv",
    ]
    assert {(e["action"], e["role"], e["address"]) for e in got} == {
        ("report.download", "supervisor", "testclient")
    }


def test_cookies_are_secure_when_told_so(app: FastAPI, provider: Any) -> None:
    """TLS ending at a proxy: `[security] secure_cookies` marks the sign-in's cookies Secure
    although the app sees http (over https they are Secure by themselves)."""
    with TestClient(app) as client:
        for secure in (False, True):
            app.state.config = CallboardConfig.model_validate(
                {
                    "teams": {"north": {}},
                    "security": {"secure_cookies": secure},
                    "oidc": {
                        "issuer": provider.base,
                        "client_id": "callboard",
                        "roles": {"g": "supervisor:north"},
                    },
                }
            )
            r = client.get("/login", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith(provider.base)
            cookie = r.headers["set-cookie"]
            assert cookie.startswith("callboard_login=") and "HttpOnly" in cookie
            assert "samesite=lax" in cookie.lower() and "Path=/login" in cookie
            assert ("Secure" in cookie) is secure


@pytest.mark.parametrize(
    "asked",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "sup",
        "/" + "x" * 600,
    ],
)
def test_the_way_back_after_sign_in_never_leaves_the_site(asked: str) -> None:
    from app.auth.signin import HOME, _local

    assert _local(asked) == HOME


def test_the_way_back_after_sign_in_keeps_a_local_path() -> None:
    from app.auth.signin import _local

    assert _local("/sup?at=2026-12-07T10:00:00Z") == "/sup?at=2026-12-07T10:00:00Z"
