"""The report's JSON: `{"report", "from", "to", "by", "interval", "rows", "totals"}` and what
says how it was made (time zone, the attribution rule, the columns, when)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["json", "csv", "xlsx", "pdf"]


class Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    report: Literal["queues", "agents", "abandoned", "waits"]
    from_: str = Field(alias="from", description="the first day (local), YYYY-MM-DD")
    to: str = Field(description="the last day (local), inclusive")
    by: Literal["center", "queue", "team", "agent"]
    interval: int | None = Field(description="15, 30 or 60 (rows by time of day), or by day")
    timezone: str | None = Field(description="the days' zone (None: the queues' own zones)")
    start: str = Field(description="the range's first instant, RFC 3339")
    end: str = Field(description="the instant after the range, RFC 3339")
    rule: str = Field(description="the attribution rule the report follows (docs/METRICS.md)")
    columns: list[str]
    generated_at: str
    gap: str | None = Field(
        default=None, description="a source had sent nothing for the range's end after this"
    )
    rows: list[dict[str, Any]] = Field(
        description="each with `key` and `day`, or `start` (HH:MM) when an interval is asked;"
        " the metrics under the names `callboard metrics --json` uses"
    )
    totals: dict[str, dict[str, Any]] = Field(
        description="per group over the whole range (what `callboard metrics --from --to`"
        " gives), with `previous` (the period as long just before) and `delta`"
    )
