from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import ConfigError, load_config

DAY = {"from": "2026-11-20T08:00:00Z", "to": "2026-11-20T17:00:00Z"}


def entry(agent: str, start: str, end: str, activity: str) -> dict[str, str]:
    return {
        "agent": agent,
        "start": f"2026-11-20T{start}:00Z",
        "end": f"2026-11-20T{end}:00Z",
        "activity": activity,
    }


def test_a_plan_is_replaced_over_its_range(client: TestClient) -> None:
    first = [entry("s1", "08:00", "12:00", "productive"), entry("s1", "12:00", "12:30", "lunch")]
    assert client.put("/api/v1/schedules", json={**DAY, "entries": first}).json() == {"stored": 2}
    second = [entry("s1", "09:00", "17:00", "productive")]
    client.put("/api/v1/schedules", json={**DAY, "entries": second})
    got = client.get("/api/v1/schedules", params={**DAY, "agent": "s1"}).json()
    assert [(g["start"], g["activity"]) for g in got] == [("2026-11-20T09:00:00Z", "productive")]


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [entry("s1", "08:00", "10:00", "productive"), entry("s1", "09:30", "10:00", "break")],
            "overlap",
        ),
        ([entry("s1", "10:00", "09:00", "break")], "end must be after start"),
        ([entry("s1", "07:00", "09:00", "break")], "outside"),
        ([{**entry("s1", "08:00", "09:00", "break"), "start": "2026-11-20T08:00:00"}], "timezone"),
    ],
)
def test_bad_plans_are_refused(
    client: TestClient, entries: list[dict[str, str]], expected: str
) -> None:
    r = client.put("/api/v1/schedules", json={**DAY, "entries": entries})
    assert r.status_code == 422 and expected in r.text


def test_schedules_in_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "callboard.toml"
    path.write_text(
        '[[schedules]]\nagent = "a1"\nstart = 2026-11-20T08:00:00Z\nend = 2026-11-20T12:00:00Z\n'
        'activity = "productive"\n'
        '[[schedules]]\nagent = "a1"\nstart = 2026-11-20T11:00:00Z\nend = 2026-11-20T11:15:00Z\n'
        'activity = "break"\n'
    )
    with pytest.raises(ConfigError, match="overlap for agent 'a1'"):
        load_config(path)
