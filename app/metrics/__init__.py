"""Metrics: their declarations (registry), the queries producing their parts (parts), the rows
of a level and a window (service).

Importing any of them checks that every metric reads only parts that exist: a misspelt part
fails here, naming the metric, the part and the nearest known part, instead of showing "no
data" for ever."""

from app.metrics.parts import PRODUCED
from app.metrics.registry import METRICS, check_parts

check_parts(METRICS, PRODUCED)
