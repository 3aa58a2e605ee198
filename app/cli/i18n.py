"""`callboard i18n`: the state of the message catalogues."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.root import app
from app.i18n import DEFAULT_LANG, LANGS, own
from app.i18n.check import check

i18n_app = typer.Typer(no_args_is_help=True, help="Languages and their message catalogues.")
app.add_typer(i18n_app, name="i18n")


@i18n_app.callback()
def _group() -> None:
    """Languages and their message catalogues (en, zh-CN, zh-TW, ru)."""


@i18n_app.command("check")
def check_command(
    lang: Annotated[
        list[str] | None, typer.Option("--lang", help="Only these languages (repeatable).")
    ] = None,
) -> None:
    """List every missing key, differing placeholder and empty text; exit 1 if any."""
    unknown = [x for x in lang or [] if x not in LANGS]
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(unknown)}: choose from {', '.join(LANGS)}")
    wanted = tuple(lang or LANGS)
    problems = [p for p in check() if p.lang in wanted]
    english = len(own(DEFAULT_LANG))
    for code in wanted:
        mine = [p for p in problems if p.lang == code]
        typer.echo(f"{code:6} {len(own(code)):5} keys  {len(mine):4} problems")
    for p in problems:
        typer.echo(str(p))
    if problems:
        typer.echo(f"{len(problems)} problems ({english} English keys)", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {len(wanted)} languages complete ({english} English keys)")


@i18n_app.command("show")
def show_command(
    prefix: Annotated[str, typer.Argument(help="Only keys that start with this.")] = "",
) -> None:
    """Every key with its text in each language, tab-separated (a missing text is empty)."""
    typer.echo("\t".join(("key", *LANGS)))
    for key in sorted(k for k in own(DEFAULT_LANG) if k.startswith(prefix)):
        typer.echo("\t".join((key, *(own(code).get(key, "") for code in LANGS))))
