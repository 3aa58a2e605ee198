"""Tokens never reach a log: uvicorn's access and error lines (paths with their query strings,
websocket handshakes) pass through a filter that blanks `token=...` and bearer values."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"((?:[?&;]|%3F|%26)token(?:=|%3D))[^&\s\"';]*", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[A-Za-z0-9_.~+/=-]+", re.IGNORECASE)
_OURS = re.compile(r"cb_[A-Za-z0-9_-]{20,}")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "")


def redact(text: str) -> str:
    text = _TOKEN.sub(r"\1[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _OURS.sub("cb_[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            args = record.args.items()
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args}
        return True


def install() -> None:
    """On the loggers and on their handlers (a logger's filter does not see records that
    propagate to it from a child logger; a handler's does)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactTokens) for f in target.filters):
                target.addFilter(RedactTokens())
