"""Issue 25, sign-in with OpenID Connect, end to end over HTTP: a real provider, a real
callboard server, httpx following the redirects as a browser would (each person's client its
own cookie jar). The code flow with PKCE, `state` and `nonce`; the roles and teams the groups
give; logout; an expired session; a forged state; a wrong `aud`; a wrong `nonce`; a person
the provider no longer knows; every outcome in the audit trail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import psycopg
import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import ConnectionClosed

from tests.conftest import libpq
from tests.e2e.conftest import Server
from tests.oidc.conftest import Provider

Signed = tuple[Server, Provider, str]


def browser(srv: Server) -> httpx.Client:
    return httpx.Client(base_url=srv.base, follow_redirects=True, timeout=15)


def sign_in(c: httpx.Client, sub: str, next_: str = "/sup") -> httpx.Response:
    """/login, the provider's form (the person types their name, Authorize), and back."""
    form = c.get("/login", params={"next": next_})
    assert form.status_code == 200 and form.url.path == "/oauth2/authorize", form.text
    query = parse_qs(form.url.query.decode())
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 40 and len(query["nonce"][0]) >= 40
    return c.post(str(form.url), data={"sub": sub})


def session_of(c: httpx.Client) -> str:
    return str(c.cookies.get("callboard_token", domain=urlsplit(str(c.base_url)).hostname))


def audit(url: str, action: str) -> list[dict[str, Any]]:
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(
            "SELECT actor, role, ok, target, detail FROM audit_log WHERE action = %s ORDER BY id",
            (action,),
        ).fetchall()
    return [dict(zip(("actor", "role", "ok", "target", "detail"), r, strict=True)) for r in rows]


@contextmanager
def socket(srv: Server, cookie: str) -> Iterator[ws_client.ClientConnection]:
    url = srv.base.replace("http", "ws") + "/api/v1/live?topics=center"
    with ws_client.connect(url, additional_headers={"Cookie": f"callboard_token={cookie}"}) as conn:
        conn.recv(timeout=10)  # its first frame: the socket is open and reading
        yield conn


def closes_within(conn: ws_client.ClientConnection, seconds: float) -> int | None:
    """The close code, if the socket closes within `seconds` (frames before it are read)."""
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            conn.recv(timeout=max(0.05, seconds - (time.monotonic() - start)))
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    return None


def test_a_supervisor_signs_in_and_gets_their_teams_only(signin_server: Signed) -> None:
    srv, _, url = signin_server
    with browser(srv) as c:
        landed = sign_in(c, "maria")
        assert landed.status_code == 200 and landed.url.path == "/sup"
        assert "sign-out" in landed.text  # the screen's sign-out button
        # the cookie: HttpOnly, SameSite=Lax, no Secure over plain http; an opaque id
        callback = next(r for r in landed.history if r.url.path == "/login/callback")
        set_cookie = callback.headers["set-cookie"]
        assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
        assert "Secure" not in set_cookie
        assert len(session_of(c)) >= 43  # >= 256 random bits, URL-safe
        me = c.get("/api/v1/me").json()
        assert me == {"role": "supervisor", "agent": None, "teams": ["north"]}
        assert c.get("/sup/pair").status_code == 403  # an admin's page
    [entry] = [e for e in audit(url, "signin") if e["actor"] == "Maria"]
    assert entry["ok"] and entry["role"] == "supervisor" and entry["detail"]["teams"] == ["north"]


def test_groups_map_to_an_admin_and_to_several_teams(signin_server: Signed) -> None:
    srv, _, _ = signin_server
    with browser(srv) as admin, browser(srv) as sam:
        sign_in(admin, "olga")
        assert admin.get("/api/v1/me").json()["role"] == "admin"
        assert admin.get("/sup/pair").status_code == 200
        sign_in(sam, "sam")
        assert sam.get("/api/v1/me").json()["teams"] == ["north", "south"]


def test_a_person_whose_groups_give_no_role_is_refused(signin_server: Signed) -> None:
    srv, _, url = signin_server
    with browser(srv) as c:
        refused = sign_in(c, "nobody")
        assert refused.status_code == 403
        assert "none of your groups" in refused.text
        assert c.get("/api/v1/me").status_code == 401
    assert [e["detail"]["reason"] for e in audit(url, "signin") if e["actor"] == "Nobody"] == [
        "role"
    ]


def test_the_return_address_stays_on_this_server(signin_server: Signed) -> None:
    srv, _, _ = signin_server
    with browser(srv) as c:
        assert sign_in(c, "maria", next_="//evil.example/x").url.path == "/sup"
    with browser(srv) as c:
        assert sign_in(c, "maria", next_="/agent/a1").url.path == "/agent/a1"


def test_logout_ends_the_session_and_its_socket_within_a_second(signin_server: Signed) -> None:
    srv, provider, url = signin_server
    with ExitStack() as stack, browser(srv) as c:
        sign_in(c, "maria")
        cookie = session_of(c)
        live = stack.enter_context(socket(srv, cookie))
        # a page from another site cannot sign anyone out
        assert c.post("/logout", headers={"Origin": "https://evil.example"}).status_code == 403
        assert c.get("/api/v1/me").status_code == 200
        out = c.post("/logout", headers={"Origin": srv.base}, follow_redirects=False)
        ended = time.monotonic()
        assert out.status_code == 303
        # on to the provider's logout, with the session's ID token, and back to /logout
        where = urlsplit(out.headers["location"])
        assert f"{where.scheme}://{where.netloc}" == provider.base
        params = parse_qs(where.query)
        assert params["post_logout_redirect_uri"] == [f"{srv.base}/logout"]
        assert params["id_token_hint"]
        assert (
            'callboard_token=""' in out.headers["set-cookie"]
            or "Max-Age=0" in (out.headers["set-cookie"])
        )
        assert closes_within(live, 1.5) == 4401
        assert time.monotonic() - ended < 1.5
    # the old cookie is worth nothing at once
    gone = httpx.get(
        f"{srv.base}/api/v1/me", headers={"Authorization": f"Bearer {cookie}"}, timeout=10
    )
    assert gone.status_code == 401
    assert [e["actor"] for e in audit(url, "signout")][-1] == "Maria"


def test_an_expired_session_is_refused_and_its_socket_closes(signin_server: Signed) -> None:
    srv, _, url = signin_server
    with ExitStack() as stack, browser(srv) as c:
        sign_in(c, "maria")
        live = stack.enter_context(socket(srv, session_of(c)))
        with psycopg.connect(libpq(url)) as conn:  # unused for [oidc] idle_min
            conn.execute(
                "UPDATE tokens SET expires_at = now() - interval '1 second'"
                " WHERE token_sha256 = encode(sha256(%s::bytea), 'hex')",
                (session_of(c).encode(),),
            )
        assert closes_within(live, 1.5) == 4401
        deadline = time.monotonic() + 6  # every server's token cache: within its TTL
        while c.get("/api/v1/me").status_code != 401:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        page = c.get("/sup")
        assert page.status_code == 401
        assert "/login?next=/sup" in page.text  # the way back in


def test_a_session_in_use_is_renewed(signin_server: Signed) -> None:
    srv, _, url = signin_server
    with browser(srv) as c:
        sign_in(c, "maria")
        digest_sql = "encode(sha256(%s::bytea), 'hex')"
        with psycopg.connect(libpq(url)) as conn:
            conn.execute(
                "UPDATE tokens SET expires_at = now() + interval '1 minute'"
                f" WHERE token_sha256 = {digest_sql}",
                (session_of(c).encode(),),
            )
            conn.execute(
                "UPDATE oidc_sessions SET renew_at = now() WHERE token_id ="
                f" (SELECT id FROM tokens WHERE token_sha256 = {digest_sql})",
                (session_of(c).encode(),),
            )
        time.sleep(2.1)  # the server's note of its last check of this session
        assert c.get("/api/v1/me").status_code == 200
        with psycopg.connect(libpq(url)) as conn:
            left = conn.execute(
                "SELECT extract(epoch FROM expires_at - now()) FROM tokens"
                f" WHERE token_sha256 = {digest_sql}",
                (session_of(c).encode(),),
            ).fetchone()
        assert left is not None and left[0] > 25 * 60  # [oidc] idle_min = 30 from now


def test_a_person_the_provider_no_longer_knows_is_signed_out(signin_server: Signed) -> None:
    srv, provider, url = signin_server
    provider.user("leaver", groups=["callboard-north"])
    with ExitStack() as stack, browser(srv) as c:
        sign_in(c, "leaver")
        live = stack.enter_context(socket(srv, session_of(c)))
        provider.forget("leaver")
        with psycopg.connect(libpq(url)) as conn:  # renewal due (every [oidc] renew_min)
            conn.execute(
                "UPDATE oidc_sessions SET renew_at = now() WHERE token_id = (SELECT id FROM"
                " tokens WHERE token_sha256 = encode(sha256(%s::bytea), 'hex'))",
                (session_of(c).encode(),),
            )
        deadline = time.monotonic() + 6
        while (status := c.get("/api/v1/me").status_code) == 200:
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert status == 401
        assert closes_within(live, 1.5) == 4401
    [entry] = [e for e in audit(url, "session.end") if e["actor"] == "Leaver"]
    assert entry["detail"]["reason"] == "provider"


def _authorized(c: httpx.Client, sub: str) -> tuple[str, dict[str, str]]:
    """A sign-in up to the provider's answer: the callback address and its parameters."""
    form = c.get("/login")
    answer = c.post(str(form.url), data={"sub": sub}, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    where = urlsplit(answer.headers["location"])
    return where.path, {k: v[0] for k, v in parse_qs(where.query).items()}


def test_a_forged_or_foreign_state_is_refused(signin_server: Signed) -> None:
    srv, _, url = signin_server
    with browser(srv) as c:
        path, params = _authorized(c, "maria")
        forged = c.get(f"{path}?{urlencode({**params, 'state': 'forged-' + 'x' * 40})}")
        assert forged.status_code == 400 and "state" in forged.text
        assert c.get("/api/v1/me").status_code == 401
        # the right state in another browser (a login link planted by an attacker): refused
        with browser(srv) as other:
            foreign = other.get(f"{path}?{urlencode(params)}")
            assert foreign.status_code == 400
            assert other.get("/api/v1/me").status_code == 401
        # and in its own browser it is good once only
        assert c.get(f"{path}?{urlencode(params)}").status_code == 200
        assert c.get(f"{path}?{urlencode(params)}").status_code == 400
    reasons = [e["detail"]["reason"] for e in audit(url, "signin") if not e["ok"]]
    assert reasons.count("state") >= 3


@pytest.mark.parametrize(
    ("claims", "said"),
    [({"aud": "someone-else"}, "aud"), ({"nonce": "replayed-from-another-sign-in"}, "nonce")],
)
def test_an_id_token_not_for_this_sign_in_is_refused(
    signin_server: Signed, claims: dict[str, str], said: str
) -> None:
    """The provider signs an ID token whose `aud` (another client's) or `nonce` (another
    sign-in's) is wrong: its signature holds, its claims do not."""
    srv, provider, url = signin_server
    sub = f"odd-{said}"
    provider.user(sub, groups=["callboard-admins"], **claims)
    with browser(srv) as c:
        refused = sign_in(c, sub)
        assert refused.status_code == 401 and said in refused.text
        assert c.get("/api/v1/me").status_code == 401
    assert [e["detail"]["reason"] for e in audit(url, "signin") if not e["ok"]][-1] == "token"


def test_a_session_writes_only_from_the_screens_own_pages(signin_server: Signed) -> None:
    """The acknowledge button and pairing (scripts with X-Callboard-Screen) work signed in;
    the same writes from another origin are refused before any route."""
    srv, _, _ = signin_server
    with browser(srv) as c:
        sign_in(c, "olga")
        screen = {"X-Callboard-Screen": "1", "Origin": srv.base}
        pair = c.post(
            "/api/v1/wallboards/pair",
            json={"code": "AAA-AAA", "wallboard": "floor2"},
            headers=screen,
        )
        assert pair.status_code == 404  # through the checks: no TV shows that code
        ack = c.post("/api/v1/alerts/999999/ack", json={}, headers=screen)
        assert ack.status_code == 404, ack.text
        evil = {**screen, "Origin": "https://evil.example"}
        assert c.post("/api/v1/alerts/999999/ack", json={}, headers=evil).status_code == 403
        cross = {"X-Callboard-Screen": "1", "Sec-Fetch-Site": "cross-site"}
        assert c.post("/api/v1/alerts/999999/ack", json={}, headers=cross).status_code == 403


def test_a_screen_that_only_watches_is_renewed_and_ended_by_the_provider(
    signin_server: Signed,
) -> None:
    """No request, only the live socket (a /sup on a second monitor): still in use. Within
    the server's round (30 s) a due session is renewed; one the provider no longer knows ends
    and its socket closes."""
    srv, provider, url = signin_server
    provider.user("watcher", groups=["callboard-north"])
    provider.user("gone", groups=["callboard-north"])
    with ExitStack() as stack, browser(srv) as watcher, browser(srv) as gone:
        sign_in(watcher, "watcher")
        sign_in(gone, "gone")
        stack.enter_context(socket(srv, session_of(watcher)))
        gone_socket = stack.enter_context(socket(srv, session_of(gone)))
        provider.forget("gone")
        with psycopg.connect(libpq(url)) as conn:
            for c in (watcher, gone):
                conn.execute(
                    "UPDATE tokens SET expires_at = now() + interval '1 minute'"
                    " WHERE token_sha256 = encode(sha256(%s::bytea), 'hex')",
                    (session_of(c).encode(),),
                )
                conn.execute(
                    "UPDATE oidc_sessions SET renew_at = now() WHERE token_id = (SELECT id"
                    " FROM tokens WHERE token_sha256 = encode(sha256(%s::bytea), 'hex'))",
                    (session_of(c).encode(),),
                )
        assert closes_within(gone_socket, 40) == 4401
        with psycopg.connect(libpq(url)) as conn:
            left = conn.execute(
                "SELECT extract(epoch FROM expires_at - now()) FROM tokens"
                " WHERE token_sha256 = encode(sha256(%s::bytea), 'hex')",
                (session_of(watcher).encode(),),
            ).fetchone()
        assert left is not None and left[0] > 25 * 60
    assert [e["actor"] for e in audit(url, "session.end")][-1] == "Gone"
