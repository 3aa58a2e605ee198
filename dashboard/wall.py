"""/wall: the floor's TV. Dark, huge numbers, no clicks; pages through the queues itself."""

from dash import html

from dashboard import ids


def layout() -> html.Div:
    return html.Div(className="wall", children=[html.Div(id=ids.WALL, className="wall-body")])
