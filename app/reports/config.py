"""Scheduled reports, as written in `callboard.toml`:

    [[reports]]
    name = "daily-queues"        # unique; `callboard report run daily-queues` sends one now
    report = "queues"            # queues | agents | abandoned | waits
    by = "queue"                 # center | queue | team | agent
    interval = 30                # 15 | 30 | 60, or leave out: by day
    range = "yesterday"          # yesterday | last-week | today-so-far
    schedule = "daily 07:00"     # daily HH:MM | weekly mon HH:MM | every N min
    format = "xlsx"              # csv | xlsx | pdf | json
    notify = ["email:managers"]  # [emails.NAME] lists, sent through [smtp]
    wait_for_data_min = 60       # a late source delays the send up to this, then it is sent
                                 # with the gap stated

References (the e-mail lists, the levels) are checked when the file is loaded."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo

from app.alerts.config import check_target
from app.i18n.negotiate import Lang

_SCHEDULE = re.compile(
    r"^(?:daily (?P<d>\d\d:\d\d)|weekly (?P<wd>mon|tue|wed|thu|fri|sat|sun) (?P<w>\d\d:\d\d)"
    r"|every (?P<n>\d+) min)$"
)
# the levels each report is by
LEVELS: dict[str, tuple[str, ...]] = {
    "queues": ("center", "queue", "team", "agent"),
    "agents": ("center", "team", "agent"),
    "abandoned": ("center", "queue"),
    "waits": ("center", "queue"),
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _schedule(value: str) -> str:
    m = _SCHEDULE.match(value)
    if m is None:
        raise ValueError(
            f"schedule {value!r}: write 'daily 07:00', 'weekly mon 07:00' or 'every 15 min'"
        )
    clock = m["d"] or m["w"]
    if clock is not None:
        time.fromisoformat(clock)
    elif not 1 <= int(m["n"]) <= 1440:
        raise ValueError(f"schedule {value!r}: every 1 to 1440 min")
    return value


class ScheduledReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    report: Literal["queues", "agents", "abandoned", "waits"]
    by: Literal["center", "queue", "team", "agent"] = "queue"
    interval: Literal[15, 30, 60] | None = None
    range: Literal["yesterday", "last-week", "today-so-far"] = "yesterday"
    schedule: Annotated[str, AfterValidator(_schedule)] = "daily 07:00"
    format: Literal["csv", "xlsx", "pdf", "json"] = "xlsx"
    notify: Annotated[list[str], Field(min_length=1)]
    lang: Lang | None = None  # default: the e-mail list's language
    wait_for_data_min: Annotated[float, Field(ge=0, le=24 * 60)] = 60.0


def check_reports(entries: list[ScheduledReport], info: ValidationInfo) -> list[ScheduledReport]:
    """Unique names; every notify target an [emails.NAME] list, with [smtp]; a level the
    report has."""
    data: dict[str, Any] = info.data
    seen: set[str] = set()
    for i, e in enumerate(entries):
        where = f"reports[{i}] ({e.name!r})"
        if e.name in seen:
            raise ValueError(f"{where}: another report has this name")
        seen.add(e.name)
        if e.by not in LEVELS[e.report]:
            raise ValueError(f"{where}: the {e.report} report is not by {e.by}")
        for target in e.notify:
            check_target(where, target, data, channels=("email",))
    return entries


ScheduledReports = Annotated[list[ScheduledReport], AfterValidator(check_reports)]
