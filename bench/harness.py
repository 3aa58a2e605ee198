"""What every bench shares: preconditions that are checked and fatal, figures printed as one table
and written as JSON, from which `make bench` writes docs/PERFORMANCE.md.

    run = Run("tick", quick=args.quick)
    run.require("contacts filled", filled > 0, f"{filled:,} contacts")    # exits 3 if false
    run.figure("tick, nothing new, 5,000 agents", 8.1, "ms", target=10)   # lower is better
    run.figure("writer / COPY", 0.34, "x", target=0.30, better="higher")
    run.finish()                                                           # table + JSON, exit 0

A bench that could not measure what it claims calls `require` with the reason and stops there:
it prints `CANNOT MEASURE` and no figure, and exits 3. A missed target is a result, not a
failure: it is printed and recorded as missed, and the bench exits 0.

The JSON goes to `$CALLBOARD_BENCH_OUT/<name>.json` when that variable names a folder."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, NoReturn

ROOT = Path(__file__).resolve().parent.parent
CANNOT_MEASURE = 3


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: float | None = None
    better: Literal["lower", "higher"] = "lower"
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.better == "lower" else self.value >= self.target


@dataclass
class Run:
    name: str
    quick: bool = False
    command: str = field(
        default_factory=lambda: shlex.join(
            ["python", *(a.removeprefix(f"{ROOT}/") for a in sys.argv)]
        )
    )
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    figures: list[Figure] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic)

    def require(self, what: str, ok: bool, detail: str = "") -> None:
        """A precondition of the measurement: when it does not hold, stop with its reason."""
        if ok:
            self.checks.append((what, detail))
            return
        self.fail(f"{what}: {detail}" if detail else what)

    def fail(self, reason: str) -> NoReturn:
        print(f"\n{self.name}: CANNOT MEASURE: {reason}", file=sys.stderr, flush=True)
        self._write(status="cannot-measure", reason=reason)
        sys.exit(CANNOT_MEASURE)

    def figure(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        target: float | None = None,
        better: Literal["lower", "higher"] = "lower",
        note: str = "",
    ) -> Figure:
        fig = Figure(name, float(value), unit, target, better, note)
        self.figures.append(fig)
        return fig

    def finish(self) -> None:
        """Print the checks and the figures as a table, and write the JSON."""
        load_after = os.getloadavg()[0]
        print(f"\n== {self.name}: {len(self.checks)} precondition(s) held", flush=True)
        for what, detail in self.checks:
            print(f"   ok  {what}" + (f" ({detail})" if detail else ""))
        load = f"load {self.load_before:.2f} -> {load_after:.2f}"
        print(f"   machine: {os.cpu_count()} cores, {load}")
        width = max([len(f.name) for f in self.figures] + [6])
        for f in self.figures:
            verdict = {None: "", True: "met", False: "MISSED"}[f.met]
            sign = "<=" if f.better == "lower" else ">="
            target = "" if f.target is None else f"{sign} {f.target:g}"
            print(f"   {f.name:<{width}}  {f.value:>12,.3f} {f.unit:<6} {target:<12} {verdict}")
        self._write(status="measured", load_after=load_after)

    def _write(self, **extra: object) -> None:
        out = os.environ.get("CALLBOARD_BENCH_OUT")
        if not out:
            return
        record = {
            "bench": self.name,
            "quick": self.quick,
            "command": self.command,
            "started_at": self.started_at,
            "seconds": round(time.monotonic() - self._t0, 1),
            "commit": _commit(),
            "cores": os.cpu_count(),
            "load_before": self.load_before,
            "checks": [{"what": w, "detail": d} for w, d in self.checks],
            "figures": [{**asdict(f), "met": f.met} for f in self.figures],
            **extra,
        }
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"{self.name}.json").write_text(json.dumps(record, indent=2) + "\n")


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"
