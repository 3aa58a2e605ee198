"""`[oidc]` of callboard.toml: sign-in with the floor's OpenID Connect provider
(docs/SECURITY.md, Sign-in). Without it people use tokens, as before."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

_LOCAL = ("localhost", "127.0.0.1", "::1")


def _issuer(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"issuer: {value!r} is not a URL: write the provider's issuer, such as "
            "https://login.example.com/realms/floor (its /.well-known/openid-configuration "
            "is read from there)"
        )
    if parts.scheme == "http" and parts.hostname not in _LOCAL:
        raise ValueError(f"issuer: {value!r}: a provider is reached over https (http: localhost)")
    if parts.query or parts.fragment:
        raise ValueError(f"issuer: {value!r} has a query or fragment; an issuer has neither")
    return value.rstrip("/")


def _grant(value: str) -> str:
    role, _, team = value.partition(":")
    if value in ("admin", "wallboard") or (role == "supervisor" and team):
        return value
    raise ValueError(
        f"roles: {value!r} is not a grant: write admin, wallboard or supervisor:TEAM "
        "(a [teams.TEAM])"
    )


class OidcConfig(BaseModel):
    """The provider, this client, and how the provider's claims make a role and teams."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: Annotated[str, AfterValidator(_issuer)]
    client_id: str = Field(min_length=1, max_length=256)
    # the client secret, in a file of its own (never in callboard.toml); none: a public client
    # (PKCE alone)
    client_secret_file: Path | None = None
    scopes: list[Annotated[str, Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")]] = Field(
        default_factory=lambda: ["openid", "profile", "email"], min_length=1, max_length=20
    )
    # where the provider sends the browser back; unset: this server's /login/callback as the
    # browser reached it (set it behind a proxy that rewrites the host)
    redirect_uri: str | None = Field(default=None, pattern=r"^https?://[^\s]+/login/callback$")
    # the claim whose values the roles below name (a list, or a space-separated string)
    claim: str = Field(default="groups", min_length=1, max_length=128)
    # a value of that claim -> admin | wallboard | supervisor:TEAM; several values add up (the
    # teams join; admin wins); a person with none of them is refused
    roles: dict[str, Annotated[str, AfterValidator(_grant)]] = Field(min_length=1)
    # how a person is named (audit, acknowledgements): the first of these claims they have
    name_claims: list[str] = Field(
        default_factory=lambda: ["name", "preferred_username", "email", "sub"], min_length=1
    )
    # a session ends after this long unused; in use it is renewed (and the provider asked
    # whether the person is still there) every renew_min
    idle_min: int = Field(default=30, ge=2, le=24 * 60)
    renew_min: int = Field(default=5, ge=1, le=24 * 60)
    # and never lasts longer than this from the sign-in
    max_hours: int = Field(default=12, ge=1, le=24 * 30)
    # after /logout, also end the session at the provider (its end_session_endpoint)
    provider_logout: bool = True
    # sign-in attempts (/login, /login/callback) per client address and minute (ASVS 6.1.1);
    # a floor behind one NAT address signs in through one address: raise it there
    attempts_per_min: int = Field(default=60, ge=1, le=100_000)

    @model_validator(mode="after")
    def _renewed_before_idle(self) -> OidcConfig:
        if self.renew_min >= self.idle_min:
            raise ValueError(
                f"renew_min ({self.renew_min}) must be under idle_min ({self.idle_min}): a "
                "session in use is renewed before it would end"
            )
        return self

    def teams_named(self) -> set[str]:
        return {g.partition(":")[2] for g in self.roles.values() if g.startswith("supervisor:")}

    def secret(self) -> str | None:
        """The client secret, read when needed (ValueError naming the file when it cannot)."""
        if self.client_secret_file is None:
            return None
        try:
            text = self.client_secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"[oidc] client_secret_file: {exc}") from exc
        if not text:
            raise ValueError(f"[oidc] client_secret_file: {self.client_secret_file} is empty")
        return text
