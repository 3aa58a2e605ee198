"""The command line, `callboard`: one file per command group, each registered on the root app
(`app.cli.root`, which also holds the context every command shares). A new group is a new
file here, added to the imports below; docs/ARCHITECTURE.md, "The command line", says how.

The order of the imports is the order of `callboard --help`."""

# isort: off
from app.cli import (  # noqa: F401  (each registers its commands on the root app)
    adapters,
    sources,
    schema,
    metrics,
    report,
    staffing,
    serve,
    simulate,
    events,
    tokens,
    audit,
    wall,
    alerts,
    i18n,
    forecast,
)

# isort: on
from app.cli.root import app, main

__all__ = ["app", "main"]
