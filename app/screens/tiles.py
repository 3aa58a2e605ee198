"""The wallboard's figure tiles: one metric of a queue's row, shown with its level under the
metric's short name (`metric.<metric>.short`, which every catalogue has for every metric).

A new figure is a name in FigureTile and its line in FIGURES. A board shows it when its
`[wallboards.NAME] tiles` name it, after the built-in figures: a new figure changes no board
by itself."""

from __future__ import annotations

from typing import Literal

FigureTile = Literal["aht"]

FIGURES: dict[FigureTile, str] = {  # tile -> metric of app/metrics/registry.py
    "aht": "aht_s",
}
