"""Component ids, as constants: the Python layouts and the JS in assets/ share them."""

URL = "url"
LIVE = "live-store"  # the merged live state, written by assets/live.js
TICK = "tick"  # a browser-side interval: ticking timers and staleness; never calls the server
PAGE = "page"
WALL = "wall-body"
AGENT = "agent-body"
SUP = "sup-body"
SELECTION = "sup-selection"
TREND = "sup-trend"
CONTACTS = "sup-contacts"
CONTACTS_DATA = "sup-contacts-data"
DOWNLOAD = "download"
PICK = "pick"  # pattern-matching id type of clickable rows: {"type": PICK, "level", "key"}
CSV = "csv"  # pattern-matching id type of export buttons: {"type": CSV, "table"}
