from __future__ import annotations

import sqlalchemy as sa

from app import migrate
from app.models import Base


def test_migrate_from_empty_matches_the_models_and_downgrades_to_nothing(fresh_db: str) -> None:
    engine = sa.create_engine(fresh_db)
    try:
        with engine.begin() as conn:
            migrate.upgrade(conn)
            assert migrate.current_revision(conn) == migrate.head_revision()
            tables = set(sa.inspect(conn).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.begin() as conn:
            migrate.downgrade(conn, "base")
            assert migrate.current_revision(conn) is None
            assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
        with engine.begin() as conn:
            migrate.upgrade(conn)
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        engine.dispose()


def test_models_and_migrations_agree(fresh_db: str) -> None:
    """A model change without its migration fails here (autogenerate finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(fresh_db)
    try:
        with engine.begin() as conn:
            migrate.upgrade(conn)
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()
