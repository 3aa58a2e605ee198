"""Issue 25: a person signs in through the floor's OpenID provider in real headless Chromium,
lands on /sup signed in as a supervisor who sees only their team, and signs out."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.test_screens import busy_floor
from tests.oidc.conftest import Provider, Server


def test_a_supervisor_signs_in_sees_their_team_and_signs_out(
    signin_server: tuple[Server, Provider, str], module_db: Any, browser: Any
) -> None:
    srv, provider, _ = signin_server
    srv.post(module_db[1]["ingest"], busy_floor())
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{srv.base}/sup")
        # not signed in: the screen says so and offers the way in
        page.locator("#sign-in").click()
        page.wait_for_url(f"{provider.base}/oauth2/authorize?*")
        page.locator("input[name=sub]").fill("maria")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{srv.base}/sup", timeout=15_000)
        expect(page.locator("#agent-grid")).to_contain_text("a1", timeout=20_000)
        expect(page.locator("#agent-grid")).not_to_contain_text("a3")  # south is not hers
        expect(page.locator("#sign-out")).to_be_visible()
        expect(page.locator("form[action='/logout']")).to_contain_text("Maria")
        cookie = {c["name"]: c for c in context.cookies()}["callboard_token"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
        # the socket of the page is live (the Origin check and the session's cookie)
        page.wait_for_function("!document.body.innerText.includes('connecting')", timeout=20_000)

        page.locator("#sign-out").click()
        page.wait_for_timeout(2000)
        print("URL", page.url, page.content()[:1500])
        # the provider's own logout, then back to callboard
        page.get_by_role("button", name="End session").click()
        page.wait_for_url(f"{srv.base}/logout", timeout=15_000)
        expect(page.locator("body")).to_contain_text("You are not signed in")
        assert "callboard_token" not in {c["name"] for c in context.cookies()}
        page.goto(f"{srv.base}/sup")
        expect(page.locator("#sign-in")).to_be_visible()  # the 401 page again
    finally:
        context.close()


def test_an_admin_signed_in_pairs_from_sup_pair(
    signin_server: tuple[Server, Provider, str], browser: Any
) -> None:
    """The pairing page's writes (its script's POST and DELETE) pass the cookie's checks when
    the admin is signed in by session."""
    srv, _, _ = signin_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{srv.base}/login?next=/sup/pair")
        page.locator("input[name=sub]").fill("olga")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{srv.base}/sup/pair", timeout=15_000)
        page.locator("#code").fill("AAA-AAA")
        page.locator("#pair button").click()
        expect(page.locator("#out")).to_contain_text("AAA-AAA", timeout=10_000)  # no such TV
        page.locator("#unpair").click()
        expect(page.locator("#out")).to_contain_text("default", timeout=10_000)  # unpaired
    finally:
        context.close()
