"""Figure tiles (app/screens/tiles.py): a metric on the wall by one line, shown only on the
boards that name it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import CallboardConfig
from app.i18n import LANGS, own
from app.metrics.registry import BY_NAME
from app.screens.config import ALL_TILES
from app.screens.tiles import FIGURES
from app.screens.views import queue_view


def test_a_board_shows_a_figure_tile_only_when_it_names_it() -> None:
    config = CallboardConfig.model_validate(
        {"wallboards": {"floor": {"tiles": ["waiting", "aht"]}, "plain": {}}}
    )
    assert config.wallboards["floor"].tiles == ["waiting", "aht"]
    assert "aht" not in config.wallboards["plain"].tiles
    assert list(config.wallboards["plain"].tiles) == list(ALL_TILES)
    with pytest.raises(ValidationError):
        CallboardConfig.model_validate({"wallboards": {"floor": {"tiles": ["nonsense"]}}})


def test_a_queue_view_carries_each_figure_with_its_unit_level_and_words() -> None:
    config = CallboardConfig.model_validate(
        {"screens": {"thresholds": {"aht_s": {"good": 300, "bad": 600}}}}
    )
    view = queue_view(config, {"key": "billing", "aht_s": 700.0, "agents_by_state": {}})
    aht = view.figures["aht"]
    assert aht.label == "metric.aht_s.short"
    assert (aht.cell.value, aht.cell.unit, aht.cell.level) == (700.0, "seconds", "bad")


def test_every_figure_is_a_metric_with_a_short_name_in_every_language() -> None:
    for metric in FIGURES.values():
        assert metric in BY_NAME
        for lang in LANGS:
            assert own(lang).get(f"metric.{metric}.short"), (metric, lang)
