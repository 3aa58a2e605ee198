"""`callboard migrate` and `callboard rebuild`: the schema and the tables derived from the
stored events."""

from __future__ import annotations

from app.cli.root import app, connect, database, err, migrate_to_head, print_json
from app.settings import get_settings


@app.command("migrate")
def migrate_cmd() -> None:
    """Bring the schema to the newest migration."""
    with database(get_settings(), schema=False) as url:
        revision = migrate_to_head(url)
    err.print(f"schema at {revision}")


@app.command()
def rebuild() -> None:
    """Recompute every derived table from the stored events, then the interval rollups."""
    from app.rollups.service import rebuild as rebuild_rollups
    from ingest.derived import rebuild as rebuild_all

    with database() as url, connect(url) as conn:
        counts = rebuild_all(conn)
        counts.update(rebuild_rollups(conn))
    print_json(counts)
