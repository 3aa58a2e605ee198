"""Configuration of the platform adapters' HTTP endpoints (`[twilio]` in callboard.toml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class TwilioConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A file holding the account's auth token (the secret stays out of the stored config);
    # read at each callback, so a rotated token needs no restart.
    auth_token_file: Path | None = None
    # The callback URL exactly as configured in the TaskRouter workspace, when callboard sits
    # behind a proxy (Twilio signs the URL it called, not the one callboard sees).
    public_url: str | None = None
    source: str = Field(default="twilio", min_length=1, max_length=64)
