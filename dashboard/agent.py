"""/agent/<id>: the agent's desktop widget, 360 x 480."""

from dash import html

from dashboard import ids


def layout(agent: str) -> html.Div:
    return html.Div(
        className="agent",
        **{"data-agent": agent},
        children=[html.Div(id=ids.AGENT, className="agent-body")],
    )
