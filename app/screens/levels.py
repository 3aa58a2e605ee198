"""How good a value is, from the configured thresholds (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.screens.config import ScreensConfig, Threshold, Tone
from app.screens.schemas import Cell, Step, Timer, Unit


def tone(value: float | None, th: Threshold | None) -> Tone:
    if value is None or th is None:
        return "none"
    if th.good > th.bad:  # higher is better
        return "good" if value >= th.good else "bad" if value <= th.bad else "warn"
    return "good" if value <= th.good else "bad" if value >= th.bad else "warn"


def threshold(
    screens: ScreensConfig, metric: str, targets: Mapping[str, float] | None = None
) -> Threshold | None:
    """The configured threshold; a queue's own target moves `good` and keeps the band."""
    th = screens.threshold(metric)
    target = (targets or {}).get(metric)
    if target is None:
        return th
    if th is None:
        return None
    return Threshold(good=target, bad=target + (th.bad - th.good))


def cell(
    screens: ScreensConfig,
    metric: str,
    value: Any,
    unit: Unit,
    targets: Mapping[str, float] | None = None,
) -> Cell:
    number = float(value) if isinstance(value, int | float) else None
    return Cell(value=number, unit=unit, level=tone(number, threshold(screens, metric, targets)))


def timer(since: str | None, good_s: float, bad_s: float, *, idle: bool = False) -> Timer:
    """A growing duration that turns warn after `good_s` and bad after `bad_s`."""
    if since is None:
        return Timer(since=None, level="none")
    return Timer(
        since=since,
        level="none" if idle else "good",
        steps=[Step(after_s=good_s, level="warn"), Step(after_s=bad_s, level="bad")],
    )
