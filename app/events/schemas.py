from pydantic import BaseModel, Field


class ItemErrorOut(BaseModel):
    index: int = Field(description="position of the item in the posted array (0-based)")
    message: str = Field(description="which field is wrong, and why")


class IngestResponse(BaseModel):
    inserted: int = Field(description="new events stored")
    duplicates: int = Field(description="events already stored under the same (source, id)")
    rejected: int = Field(description="items that are not valid events; see errors")
    errors: list[ItemErrorOut]
