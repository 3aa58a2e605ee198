"""Reports of the past: four reports over a range of days, their formats, their schedules."""
