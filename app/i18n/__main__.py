"""`python -m app.i18n check`: the catalogue check without the rest of the command line."""

from app.i18n.cli import i18n_cli

i18n_cli(prog_name="python -m app.i18n")
