"""/sup: center -> queue -> team -> agent -> contact; the agent grid; trends; CSV exports."""

from dash import dcc, html

from dashboard import ids
from dashboard.figures import empty_figure


def layout() -> html.Div:
    return html.Div(
        className="sup",
        children=[
            dcc.Store(id=ids.SELECTION, data={"queue": None, "team": None, "agent": None}),
            dcc.Store(id=ids.CONTACTS_DATA, data=[]),
            dcc.Download(id=ids.DOWNLOAD),
            html.Div(id=ids.SUP, className="sup-body"),
            html.Div(
                className="sup-detail",
                children=[
                    dcc.Graph(
                        id=ids.TREND,
                        figure=empty_figure("pick a queue"),
                        config={"displayModeBar": False},
                    ),
                    html.Div(id=ids.CONTACTS, className="contacts"),
                ],
            ),
        ],
    )
