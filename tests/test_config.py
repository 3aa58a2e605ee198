from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from app.config import ConfigError, current_config, load_config, store_config

EXAMPLE = Path(__file__).parent.parent / "examples" / "callboard.toml"


def test_the_shipped_example_loads_and_queues_inherit_defaults() -> None:
    config = load_config(EXAMPLE)
    billing, other = config.queue("billing"), config.queue("unlisted")
    assert (billing.sl_threshold_s, billing.short_abandon_s, billing.timezone) == (
        30,
        5,
        "Europe/Berlin",
    )
    assert billing.targets["service_level"] == 0.8
    assert (other.sl_threshold_s, other.sl_formula) == (20, "standard")
    assert config.team_of()["a04"] == "south"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[defaults]\nsl_treshold_s = 20\n", "sl_treshold_s"),
        ('[defaults]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
        ('[queues.q]\nsl_formula = "magic"\n', "sl_formula"),
        ("[defaults\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_refused_with_the_reason(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "callboard.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_config_versions_are_recorded_only_when_the_config_changes(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    config = load_config(EXAMPLE)
    v1 = store_config(pg, config, origin="test")
    assert store_config(pg, config, origin="test") == v1
    changed = config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"sl_threshold_s": 15})}
    )
    v2 = store_config(pg, changed, origin="test")
    assert v2 > v1
    current = current_config(pg)
    assert current is not None and current[0] == v2
    assert current[1].defaults.sl_threshold_s == 15
    row = pg.execute("SELECT auto_created, team FROM agents WHERE id = 'a01'").fetchone()
    assert row == (False, "north")
