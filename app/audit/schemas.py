from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    action: str
    actor: str
    role: str | None
    address: str | None  # the client's IP address
    target: str | None
    ok: bool
    detail: dict[str, Any]
