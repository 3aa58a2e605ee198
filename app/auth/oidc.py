"""The OpenID Connect provider, as this server talks to it: discovery, the authorization
request (code flow with PKCE S256, `state` and `nonce`), the code exchange, the ID token's
checks (signature by the provider's published keys, `iss`, `aud`, `azp`, `exp`, `nonce`),
renewal with the refresh token, and the provider's logout address.

Authlib's httpx client builds the requests (PKCE, client authentication, token parsing);
joserfc checks the ID token. Every call here blocks (httpx): routes run them in worker
threads. A Provider object is kept per `[oidc]` (app/auth/signin.py: `provider_for`)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.auth.oidc_config import OidcConfig

TIMEOUT_S = 10.0
DISCOVERY_TTL_S = 3600.0
LEEWAY_S = 60  # clocks of the provider and this server may differ this much
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA")


class Unreachable(Exception):
    """The provider could not be reached, or answered something that is not OpenID Connect
    (a 502 for the person; nothing about them is decided)."""


class Refused(Exception):
    """The provider's answer does not hold: the reason, in words (sign-in refused)."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    end_session: str | None


class Provider:
    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._endpoints: Endpoints | None = None
        self._read_at = 0.0
        self._keys: KeySet | None = None

    def _client(self, redirect_uri: str | None = None) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.secret(),
            token_endpoint_auth_method=(
                "client_secret_basic" if self.config.client_secret_file else "none"
            ),
            scope=" ".join(self.config.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_S,
        )

    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = httpx.get(url, timeout=TIMEOUT_S, headers={"Accept": "application/json"})
            r.raise_for_status()
            body = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unreachable(f"{url}: {exc}") from exc
        if not isinstance(body, dict):
            raise Unreachable(f"{url}: not a JSON object")
        return body

    def endpoints(self) -> Endpoints:
        """The provider's /.well-known/openid-configuration, read at most hourly."""
        with self._lock:
            if self._endpoints and time.monotonic() - self._read_at < DISCOVERY_TTL_S:
                return self._endpoints
        url = f"{self.config.issuer}/.well-known/openid-configuration"
        doc = self._get(url)
        if str(doc.get("issuer", "")).rstrip("/") != self.config.issuer:
            # OpenID Connect Discovery 4.3: the document must name the issuer it was read from
            raise Unreachable(f"{url} names issuer {doc.get('issuer')!r}, not {self.config.issuer}")
        try:
            found = Endpoints(
                authorization=str(doc["authorization_endpoint"]),
                token=str(doc["token_endpoint"]),
                jwks=str(doc["jwks_uri"]),
                end_session=doc.get("end_session_endpoint"),
            )
        except KeyError as exc:
            raise Unreachable(f"{url} lacks {exc.args[0]}") from exc
        with self._lock:
            self._endpoints, self._read_at = found, time.monotonic()
        return found

    def _key_set(self, fresh: bool = False) -> KeySet:
        if self._keys is None or fresh:
            try:
                self._keys = KeySet.import_key_set(self._get(self.endpoints().jwks))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as exc:
                raise Unreachable(f"the provider's keys: {exc}") from exc
        return self._keys

    def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        url, _ = self._client(redirect_uri).create_authorization_url(
            self.endpoints().authorization, state=state, nonce=nonce, code_verifier=verifier
        )
        return str(url)

    def _token(self, **kwargs: Any) -> dict[str, Any]:
        """A token endpoint request; Refused when the provider says no (its error code)."""
        try:
            with self._client(kwargs.pop("redirect_uri", None)) as client:
                if "refresh_token" in kwargs:
                    token = client.refresh_token(self.endpoints().token, **kwargs)
                else:
                    token = client.fetch_token(self.endpoints().token, **kwargs)
        except AuthlibBaseError as exc:
            raise Refused(f"the provider refused: {exc.error}: {exc.description or ''}") from exc
        except httpx.HTTPStatusError as exc:
            if 400 <= exc.response.status_code < 500:
                raise Refused(f"the provider refused ({exc.response.status_code})") from exc
            raise Unreachable(f"the provider's token endpoint: {exc}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise Unreachable(f"the provider's token endpoint: {exc}") from exc
        return dict(token)

    def exchange(self, *, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """The code for tokens (with the PKCE verifier); must hold an ID token."""
        token = self._token(
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
        )
        if not token.get("id_token"):
            raise Refused("the provider answered without an ID token (is `openid` a scope?)")
        return token

    def renew(self, refresh_token: str) -> dict[str, Any]:
        """A refresh: the provider still knows the person (Refused when it does not)."""
        return self._token(refresh_token=refresh_token)

    def claims(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims once it is proven: signed by the provider, for this client,
        not expired, for this sign-in (nonce). Refused with the reason otherwise."""
        try:
            try:
                token = jwt.decode(id_token, self._key_set(), algorithms=ALGORITHMS)
            except (JoseError, ValueError) as exc:
                if "key" not in str(exc).lower():
                    raise
                # keys rotate: read them again once
                token = jwt.decode(id_token, self._key_set(fresh=True), algorithms=ALGORITHMS)
            claims = dict(token.claims)
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            raise Refused(f"the ID token does not hold: {exc}") from exc
        aud = claims.get("aud")
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise Refused("the ID token is for several clients and not authorized for this one")
        return claims

    def logout_url(self, *, id_token: str | None, back_to: str) -> str | None:
        """Where the browser ends its session at the provider (RP-initiated logout), if the
        provider has such an address."""
        try:
            end = self.endpoints().end_session
        except Unreachable:
            return None
        if not end:
            return None
        params = {"post_logout_redirect_uri": back_to, "client_id": self.config.client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return f"{end}{'&' if '?' in end else '?'}{urlencode(params)}"
