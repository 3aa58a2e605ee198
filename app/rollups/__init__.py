"""Interval rollups: every metric's parts per group and 15-minute interval, kept in the
writing transaction (ingest/rollups.py), read by trends, reports and the forecast (read.py:
start there), built for the configuration in force (service.py)."""
