"""What is wrong with the catalogues, key by key: the catalogue test and `callboard i18n check`.

English is the reference: every key of every `en/*.json` must exist in every other language,
with the same `{placeholders}` and a text that is not empty. Plural groups (`x.one`, `x.other`,
...) are compared as groups: each language needs the forms its own plural rule has (Russian
one/few/many/other, Chinese other), each with English's placeholders. The words the product
itself names (every metric of the registry, every agent state, away reason and perspective)
must have an English text at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from app.i18n import CATALOGUES, DEFAULT_LANG, LANGS, PLURAL_CATEGORIES, locale, placeholders
from app.i18n import read_file as _read


@dataclass(frozen=True)
class Problem:
    lang: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.lang:6} {self.key}: {self.message}"


def required_keys() -> list[str]:
    """Keys the code names, which English must define (a new metric or state needs words)."""
    from app.metrics.registry import METRICS
    from app.scorecard.scoring import PERSPECTIVES
    from ingest.contract import AgentStateName

    keys = [k for m in METRICS for k in (f"metric.{m.name}", f"metric.{m.name}.short")]
    keys += [f"state.{s}" for s in get_args(AgentStateName)]
    keys += ["state.logged_in"]
    keys += [f"reason.{r}" for r in ("break", "lunch", "meeting", "training", "coaching")]
    keys += ["reason.unspecified"]
    keys += [f"perspective.{p}{x}" for p in PERSPECTIVES for x in ("", ".short", ".help")]
    return keys


def _load(lang: str, root: Path, problems: list[Problem]) -> dict[str, tuple[str, str]]:
    """key -> (text, file name) of one language's own files; unreadable files and keys defined
    in two files become problems."""
    out: dict[str, tuple[str, str]] = {}
    for path in sorted((root / lang).glob("*.json")):
        try:
            data = _read(path)
        except (ValueError, json.JSONDecodeError) as e:
            problems.append(Problem(lang, path.name, f"unreadable: {e}"))
            continue
        for key, text in data.items():
            if key in out:
                problems.append(
                    Problem(lang, key, f"defined in both {out[key][1]} and {path.name}")
                )
            out[key] = (text, path.name)
    return out


def _plural_bases(keys: dict[str, tuple[str, str]]) -> set[str]:
    return {k.rsplit(".", 1)[0] for k in keys if k.rsplit(".", 1)[-1] == "other" and "." in k}


def _fields(lang: str, key: str, text: str, problems: list[Problem]) -> set[str] | None:
    try:
        return placeholders(text)
    except ValueError as e:
        problems.append(Problem(lang, key, f"braces do not parse ({e}): {text!r}"))
        return None


def check(
    root: Path = CATALOGUES,
    langs: tuple[str, ...] = LANGS,
    required: list[str] | None = None,
) -> list[Problem]:
    """Every problem of the catalogues under `root`, English first, then language by language;
    `required` defaults to the keys the code names."""
    problems: list[Problem] = []
    en = _load(DEFAULT_LANG, root, problems)
    for key in required_keys() if required is None else required:
        if key not in en:
            problems.append(Problem(DEFAULT_LANG, key, "named by the code but has no text"))
    bases = _plural_bases(en)

    def plural_base(key: str) -> str | None:
        base, _, cat = key.rpartition(".")
        return base if base in bases and cat in PLURAL_CATEGORIES else None

    for lang in langs:
        words = en if lang == DEFAULT_LANG else _load(lang, root, problems)
        for key, (text, file) in sorted(words.items()):
            if not text.strip():
                problems.append(Problem(lang, key, f"empty text in {file}"))
            if key not in en and plural_base(key) is None:
                problems.append(Problem(lang, key, f"not an English key (stale?) in {file}"))
        if lang == DEFAULT_LANG:
            for key, (text, _) in sorted(en.items()):
                _fields(lang, key, text, problems)
        else:
            for key, (text, _) in sorted(en.items()):
                if plural_base(key) is not None:
                    continue
                if key not in words:
                    problems.append(Problem(lang, key, f"missing (English: {text!r})"))
                    continue
                want = _fields(DEFAULT_LANG, key, text, [])
                got = _fields(lang, key, words[key][0], problems)
                if want is not None and got is not None and want != got:
                    problems.append(Problem(lang, key, _differs(want, got)))
        forms = sorted(set(locale(lang).plural_form.tags) | {"other"})
        for base in sorted(bases):
            want = _fields(DEFAULT_LANG, f"{base}.other", en[f"{base}.other"][0], [])
            for cat in forms:
                key = f"{base}.{cat}"
                if key not in words:
                    problems.append(Problem(lang, key, f"missing plural form {cat!r}"))
                    continue
                got = _fields(lang, key, words[key][0], problems)
                if want is not None and got is not None and want != got:
                    problems.append(Problem(lang, key, _differs(want, got)))
    return problems


def _differs(want: set[str], got: set[str]) -> str:
    parts = []
    if want - got:
        parts.append("lacks " + ", ".join(f"{{{p}}}" for p in sorted(want - got)))
    if got - want:
        parts.append("has unknown " + ", ".join(f"{{{p}}}" for p in sorted(got - want)))
    return "placeholders differ from English: " + "; ".join(parts)
