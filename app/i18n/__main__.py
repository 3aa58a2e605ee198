"""`python -m app.i18n check`: the catalogue check without the rest of the command line."""

from app.cli.i18n import i18n_app

i18n_app(prog_name="python -m app.i18n")
