from pydantic import BaseModel, Field


class SourceError(BaseModel):
    position: str = Field(description="where in the body: `line 3`, `line 1 item 2`, ...")
    message: str = Field(description="what is wrong, in words a person can act on")


class SourceResponse(BaseModel):
    inserted: int = Field(description="new events stored")
    duplicates: int = Field(description="events already stored under the same (source, id)")
    rejected: int = Field(description="records that could not be read; see errors")
    skipped: dict[str, int] = Field(description="records that make no event, per kind")
    errors: list[SourceError]


class Position(BaseModel):
    key: str = Field(description="the followed file, or the stream's consumer")
    offset: int | None
    size: int | None
    lag_bytes: int | None = Field(description="bytes of a followed file not read yet")
    updated_at: str


class SourceHealth(BaseModel):
    source: str
    last_event_ts: str | None = Field(description="the newest event's own time")
    age_s: float | None = Field(description="its age on the events' clock")
    last_heard_at: str | None
    silent_s: float | None = Field(description="seconds since the source was last heard from")
    events_per_min: float
    inserted: int
    duplicates: int
    rejected: int
    skipped: int
    gaps: int
    positions: list[Position]
    lag_bytes: int | None
    max_silence_s: float | None
    stale: bool = Field(description="silent longer than its max_silence_s")


class SourcesHealth(BaseModel):
    generated_at: str
    sources: list[SourceHealth]
