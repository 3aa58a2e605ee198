"""Names vulture (`make test`) cannot see in use: called by a framework or a protocol, or
read through `dataclasses.fields()`. Everything else it reports is dead code: delete it.
Each line is a use of the name (vulture's whitelist format); the file is never run."""

# ruff: noqa: B018, F821

_.__call__  # app/metrics/registry.py Formula: a Protocol's method
_.collect  # app/sources/health.py SourcesCollector: prometheus_client calls it at each scrape

# ingest/derive.py Segment: its columns are written through SEGMENT_COLUMNS (dataclasses.fields)
_.is_first
_.is_last
_.left_at
_.overflow_reason
_.missed
_.handled_at
_.transferred
_.transfer_to_queue
_.transfer_to_agent
_.transfer_to_external
_.contact_outcome
_.contact_wait_s
_.attempts
_.viewport  # tests/i18n/overflow.py: a dataclass field, printed with the others

_.freeze_panes  # app/reports/formats.py: openpyxl reads the sheet's property

_.__doc__  # app/cli/report.py: typer reads a command's help from it

# test servers: http.server and aiosmtpd call these; pytest reads pytestmark
_.do_POST
_.log_message
_.handle_DATA
_.pytestmark

# The live engineer's (#19), whose split of the hub is under way: theirs to use or delete.
_.Families  # app/live/engine.py
_.agents_read  # app/live/engine.py Stats
_.computed_started  # app/live/hub.py

_.created_at  # app/auth/pairing_router.py PairedTv: a response model's field
_._setup_catchall  # dashboard/app.py: Dash's own hook, replaced so no path serves its shell
