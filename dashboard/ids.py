"""Component ids shared by the layout (app.py) and the screens' scripts (assets/)."""

SCREEN = "screen"  # the container each screen's script renders into
REPORTS = "reports"  # the /reports page's container (assets/g_reports.js)
