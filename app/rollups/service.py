"""The rollups and the configuration: which thresholds they hold, building them for the
configuration in force (`callboard rebuild`, and when a configuration with other thresholds is
stored). Their upkeep with every write is ingest/rollups.py."""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from app.config import CallboardConfig, current_config
from ingest import rollups as R

log = logging.getLogger(__name__)


def thresholds(config: CallboardConfig) -> R.Thresholds:
    return R.thresholds_of(config.model_dump(mode="json"))


def is_current(conn: psycopg.Connection[Any], config: CallboardConfig) -> bool:
    """The rollups can be read for `config` (its thresholds, nothing left behind)."""
    return R.is_current(conn, thresholds(config))


def rebuild(conn: psycopg.Connection[Any], config: CallboardConfig | None = None) -> dict[str, int]:
    """Every rollup computed again for `config` (default: the stored one). Does not commit."""
    if config is None:
        found = current_config(conn)
        config = found[1] if found else CallboardConfig()
    return R.rebuild(conn, thresholds(config))


def rebuild_if_outdated(conn: psycopg.Connection[Any], config: CallboardConfig) -> bool:
    """Rebuild when the rollups were never built, hold other thresholds or were left behind."""
    if is_current(conn, config):
        return False
    log.info("rollups: computing them again for the configuration in force")
    rebuild(conn, config)
    return True
