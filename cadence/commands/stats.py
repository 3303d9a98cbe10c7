"""`cadence stats`: what the journal says happened, and where the ledger stands."""
from __future__ import annotations

from typing import Optional

import typer

from ..cli import (one_format, CSV, load_book, JSON, OPTIONS, QUIET, TODAY, APP as app, config, emit_json,
                   guarded, parse_on, quiet, resolve_today)
from ..helptext import INSIGHT


@app.command(rich_help_panel=INSIGHT)
def stats(
    since: Optional[str] = typer.Option(None, "--since", help="Count journal rows from this date.",
                                        metavar="DATE"),
    today: Optional[str] = TODAY,
    as_json: bool = JSON,
    as_csv: bool = CSV,
    quiet_: bool = QUIET,
) -> None:
    """Touches by channel, step and playbook; reply rates; contacts by status and phase."""
    quiet(quiet_)
    from ..book import journal_rows
    from ..report import stats as compute

    with guarded(as_json):
        one_format(as_json, as_csv)
        cfg = config()
        day = resolve_today(today, cfg)
        start = parse_on(since, day, "--since") if since else None
        loaded = load_book(cfg)
        result = compute(loaded.book, lambda: journal_rows(cfg, loaded.ledger_bytes), day, start)
    if as_json:
        emit_json(result)
        return
    if as_csv:
        from ..export import to_csv

        dialect = loaded.ledger.dialect()
        typer.echo(to_csv(["section", "playbook", "key", "touches", "replies", "reply_rate",
                           "contacts"], _csv_rows(result, dialect[0]), *dialect), nl=False)
        return
    if OPTIONS.quiet:
        return
    from ..terminal import table

    def pct(item):
        return f"{100 * item['reply_rate']:.0f}%"

    period = f"since {result['since']}" if result["since"] else "in the whole journal"
    table(f"Touches {period}: {result['touches']}, replies: {result['replies']}",
          ["channel", "touches", "replies", "reply rate"],
          [[i["channel"], i["touches"], i["replies"], pct(i)] for i in result["by_channel"]])
    table("By step", ["playbook", "step", "touches", "replies", "reply rate"],
          [[i["playbook"], i["step"], i["touches"], i["replies"], pct(i)] for i in result["by_step"]])
    table("Contacts by status", ["status", "contacts"], list(result["status"].items()))
    table("Active contacts by phase", ["playbook", "phase", "contacts"],
          [[i["playbook"], i["phase"], i["contacts"]] for i in result["phase"]])
    if result["won"]:
        table("Won", ["playbook", "contacts"], list(result["won"].items()))
    if result["slipped"]:
        table("Slipped: periodic touches more than a month late (each month costs ~10% of the "
              "contact's value)", ["contact", "name", "playbook", "step", "due", "late", "months"],
              [[s["contact"], s["name"], s["playbook"], s["step"], s["due"], s["overdue"],
                s["months"]] for s in result["slipped"]])


def _csv_rows(result, delimiter: str = ",") -> list:
    """The rows of `stats --csv`. In a `;` file (the spreadsheets of the languages that write
    `0,25`) a rate has a decimal comma, so that the spreadsheet reads it as a number."""
    def rate(value) -> str:
        return str(value).replace(".", ",") if delimiter == ";" else str(value)

    rows = [["channel", "", i["channel"], i["touches"], i["replies"], rate(i["reply_rate"]), ""]
            for i in result["by_channel"]]
    rows += [["step", i["playbook"], i["step"], i["touches"], i["replies"],
              rate(i["reply_rate"]), ""] for i in result["by_step"]]
    rows += [["status", "", k, "", "", "", n] for k, n in result["status"].items()]
    rows += [["phase", i["playbook"], i["phase"], "", "", "", i["contacts"]] for i in result["phase"]]
    rows += [["won", k, "", "", "", "", n] for k, n in result["won"].items()]
    rows += [["slipped", s["playbook"], s["contact"], "", "", "", s["months"]]
             for s in result["slipped"]]
    return rows
