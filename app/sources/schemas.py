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
