"""Interval rollups: every metric's parts per group and 15-minute interval, kept in the
writing transaction (maintain.py), read by trends, reports and the forecast (read.py: start
there), computed by the queries of app/metrics/parts.py (families.py)."""
