"""`cadence forecast`: touches per day and channel for the coming days, if nobody replies."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (one_format, CSV, load_book, JSON, OPTIONS, QUIET, TODAY, APP as app, config, emit_json,
                   guarded, quiet, resolve_today)
from ..helptext import INSIGHT
from ..model import CHANNELS, count



@app.command(rich_help_panel=INSIGHT)
def forecast(
    days: int = typer.Option(14, "--days", min=1, max=3660, metavar="N",
                              help="How many days, from today."),
    today: Optional[str] = TODAY,
    as_json: bool = JSON,
    as_csv: bool = CSV,
    quiet_: bool = QUIET,
) -> None:
    """Touches per day and channel for the coming days, and the overdue backlog."""
    quiet(quiet_)
    from ..report import forecast as compute

    with guarded(as_json):
        one_format(as_json, as_csv)
        cfg = config()
        day = resolve_today(today, cfg)
        loaded = load_book(cfg)
        result = compute(loaded.book, day, days)
    if as_json:
        emit_json(result.as_json())
        return
    if as_csv:
        from ..export import to_csv

        rows = [[d.isoformat(), *[c.get(ch, 0) for ch in CHANNELS], sum(c.values()),
                 len(result.backlog) if d == day else 0] for d, c in result.per_day]
        typer.echo(to_csv(["date", *CHANNELS, "total", "overdue"], rows,
                          *loaded.ledger.dialect()), nl=False)
        return
    if OPTIONS.quiet:
        return
    from ..terminal import table

    peak = max((sum(c.values()) for _, c in result.per_day), default=0) or 1
    used = [ch for ch in CHANNELS if any(c.get(ch) for _, c in result.per_day)] or ["email"]
    rows = []
    for d, counts in result.per_day:
        total = sum(counts.values())
        bar = "█" * max(1 if total else 0, round(30 * total / peak))
        rows.append([f"{d.isoformat()} {d.strftime('%a')}", *[counts.get(ch, 0) or "" for ch in used],
                     total or "", bar])
    late = len(result.backlog)
    title = f"Forecast from {day}, {count(days, 'day')}, if nobody replies"
    if late:
        title += f" (today includes {late} overdue)"
    table(title, ["date", *used, "total", ""], rows)
