"""What the demo shows on the terminal: the live decision feed, the summary, the escrow outcome and
the next steps. Everything here fits an 80-column terminal: one line per payment, reasons shortened
and cut with an ellipsis rather than wrapped (rich measures and crops; nothing assumes a width)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from oracle.features import SECS_SINCE_CAP, token_symbol
from oracle.fx_features import FX_FEATURES, fx_short_reason
from oracle.gate import ROUTER, key_of
from oracle.store import Store

DECISION_STYLE = {"settled": "green", "held": "yellow", "refunded": "red"}
FEED_ROWS = 8  # most payments the live feed lists (fewer on a short terminal)
FEED_CHROME = 8  # lines the feed takes besides its rows: progress, title, header, caption, margins

# Every key of demo-summary.json, in the order the summary prints them, with what it means. README.md
# lists the same keys (tests/demo/test_screen.py holds the two together and against the code).
SUMMARY_FIELDS: dict[str, str] = {
    "payments": "sent to the router",
    "verdicts": "decided by a verdict",
    "settled": "paid to the payee",
    "held": "held for a reviewer",
    "refunded": "refunded to the payer at once",
    "pending": "no verdict yet at the end",
    "settled_without_verdict": "settled unscored (must be 0)",
    "frauds": "planted as fraud",
    "frauds_caught": "of them held or refunded",
    "frauds_missed": "of them settled",
    "legit_payments": "legitimate payments decided",
    "legit_review_rate": "of them held or refunded",
    "legit_review_rate_before_vote": "the same, before the DAO vote",
    "legit_review_rate_after_vote": "the same, after it",
    "legit_refund_rate": "of them refunded",
    "latency_ms_p50": "pay to verdict mined, median",
    "latency_ms_p99": "the same, 99th percentile",
    "escrow": "the milestone escrow (below)",
    "governance": "the DAO's threshold vote",
    "model_id": "the model that scored them",
    "oracle": "the oracle network: nodes, threshold, the killed node, reports",
    "cross_border": "payments in mUSD settled in mEUR or mGBP (below)",
}


# --- the live feed ----------------------------------------------------------------------------


def _usd(x: float) -> str:
    return f"${x:,.0f}" if abs(x) >= 100 else f"${x:,.2f}"


def _count(x: float) -> str:
    return f"{round(x):,}"


def _age(days: float) -> str:
    return f"{days * 24:.0f} h" if days < 2 else f"{days:,.0f} d"


def _ago(secs: float) -> str:
    if secs < 120:
        return f"{secs:.0f} s"
    if secs < 7200:
        return f"{secs / 60:.0f} min"
    return f"{secs / 3600:.1f} h" if secs < 172_800 else f"{secs / 86_400:.0f} d"


def short_reason(reason: Mapping[str, Any]) -> str:
    """A reason in a few words for the terminal ("account 3 h old", "new payee"); the full sentence
    is in the store, `verdict explain` and the dashboard."""
    feature, v = str(reason.get("feature", "")), float(reason.get("value", 0.0))
    match feature:
        case "amount":
            return f"amount {_usd(v)}"
        case "log_amount":
            return f"amount {_usd(math.expm1(min(v, 40.0)))}"  # a log; never overflow on garbage
        case "payer_count_1h":
            return f"{_count(v)} payments in 1 h"
        case "payer_sum_1h":
            return f"{_usd(v)} sent in 1 h"
        case "payer_count_24h":
            return f"{_count(v)} payments in 24 h"
        case "payer_sum_24h":
            return f"{_usd(v)} sent in 24 h"
        case "secs_since_payer_last":
            return "first payment in 30 d" if v >= SECS_SINCE_CAP else f"last paid {_ago(v)} ago"
        case "pair_is_new":
            return "new payee" if v >= 0.5 else "known payee"
        case "payee_fanin_24h":
            return f"payee: {_count(v)} payer{'' if round(v) == 1 else 's'} in 24 h"
        case "amount_zscore_payer":
            return f"amount {v:+.1f}σ of payer's"
        case "hour_of_day":
            return f"at {int(v):02d}:00 UTC"
        case "token":
            return f"in {token_symbol(v)}"
        case "cross_border":
            return "cross-border" if v >= 0.5 else "same country"
        case "account_age_days":
            return f"account {_age(v)} old"
        case "payer_txn_count":
            return f"{_count(v)} earlier payments"
        case "payee_age_days":
            return f"payee {_age(v)} old"
        case "payer_recv_sum_24h":
            return f"received {_usd(v)} in 24 h"
        case "reverse_pair":
            return "payee paid payer before" if v >= 0.5 else "no payment back"
        case f if f in FX_FEATURES:
            return fx_short_reason(f, v)
        case _:
            return str(reason.get("text") or feature)


def why(outcome: str, score: int | None, review: int, reasons: list[Mapping[str, Any]]) -> Text:
    """The feed's last column. A stopped payment: its risk factors, in its outcome's colour. A payment
    below the review threshold: "no risk flag", since its top factors are only the least reassuring
    facts about a payment the model found ordinary, and read like accusations out of context."""
    if score is None:
        return Text("waiting for the verdict", style="dim")
    if score < review:
        return Text("no risk flag", style="dim")
    factors = [short_reason(r) for r in reasons if float(r.get("contribution", 1.0)) > 0] or [
        short_reason(r) for r in reasons[:1]
    ]
    return Text("; ".join(dict.fromkeys(factors)), style=DECISION_STYLE.get(outcome, ""))


def feed_rows(console: Console) -> int:
    """How many payments fit under the progress bar on this terminal (3 at least, FEED_ROWS at most)."""
    return max(3, min(FEED_ROWS, console.size.height - FEED_CHROME))


def decision_feed(
    sent: list[tuple[int, Any]],
    outcomes: Mapping[int, tuple[str, float]],
    store: Store,
    thresholds: tuple[int, int],
    limit: int = FEED_ROWS,
) -> Table:
    """The latest `limit` payments of `sent` ((payment id, scenario row)), one line each."""
    review, reject = thresholds
    table = Table(
        title=f"latest decisions · review at score ≥ {review:,} bps · reject at ≥ {reject:,} bps",
        caption=(
            "score: risk quantile among legitimate payments, in bps (9,900 = riskier than 99% of "
            "them). truth: what the scenario planted, legit or a fraud typology."
        ),
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),  # one space between columns: the reasons get the room
        show_edge=False,
        expand=True,
        title_style="bold",
        caption_style="dim",
    )
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)  # the amount in USD; its token beside it
    table.add_column("token", no_wrap=True)
    table.add_column("truth", no_wrap=True, overflow="ellipsis", max_width=17)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("why", no_wrap=True, overflow="ellipsis", ratio=1, min_width=12)
    for payment_id, row in sent[-limit:] if limit else []:
        scored = store.scored(key_of(ROUTER, payment_id))
        outcome = outcomes.get(payment_id, ("pending", 0.0))[0]
        score = scored.score_bps if scored else None
        legit = row.typology == "none"
        table.add_row(
            str(payment_id),
            _usd(float(row.amount_usd)),
            str(row.token),
            Text("legit", style="dim") if legit else Text(str(row.typology), style="bold"),
            f"{score:,}" if score is not None else "-",
            Text(outcome, style=DECISION_STYLE.get(outcome, "")),
            why(outcome, score, review, list(scored.reasons) if scored else []),
        )
    return table


def replay_live(replay: Any, rows: list[Any], store: Store, console: Console, title: str) -> None:
    """Sends `rows` one after another, each decided before the next (time jumps stay under the
    verdict deadline), with a progress bar and the latest decisions on screen. `replay` is a
    `verdict_demo.replay.Replay`; the thresholds shown are the router's when the run starts."""
    thresholds = replay.chain.thresholds()
    progress = Progress(
        TextColumn(f"[bold]{title}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )
    task = progress.add_task(title, total=len(rows))

    def screen() -> Group:
        feed = decision_feed(replay.sent, replay.watcher.outcomes, store, thresholds, feed_rows(console))
        return Group(progress, feed)

    with Live(screen(), console=console, refresh_per_second=8) as live:
        for row in rows:
            payment_id = replay.send(row)
            if replay.wait_outcome(payment_id) is None:
                console.print(f"[red]payment {payment_id} got no verdict in time (it stays pending)[/]")
            progress.advance(task)
            live.update(screen())
    console.print()  # rich's Live leaves the cursor on its last line


# --- the end of the demo ----------------------------------------------------------------------


def print_summary(console: Console, result: Mapping[str, Any], path: str) -> None:
    """The figures of demo-summary.json that fit a line each, with what they mean."""
    console.rule("summary")
    table = Table(box=None, show_header=False, padding=(0, 1))
    rows = [(key, _value(key, result.get(key)), meaning) for key, meaning in SUMMARY_FIELDS.items()]
    rows = [r for r in rows if not isinstance(result.get(r[0]), dict | list)]  # escrow: its own lines
    # Keys and figures whole; the explanation gives way (cut with an ellipsis) on a narrow terminal.
    table.add_column(justify="right", no_wrap=True, style="bold", min_width=max(len(r[0]) for r in rows))
    table.add_column(justify="right", no_wrap=True, min_width=max(len(r[1]) for r in rows))
    table.add_column(no_wrap=True, overflow="ellipsis", style="dim")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"written to {path}")


def _value(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_rate") or "_rate_" in key:
        return f"{100 * float(value):.1f}%"
    if key == "model_id":
        return f"{str(value)[:10]}…"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_cross_border(console: Console, section: Mapping[str, Any]) -> None:
    """The cross-border payments: how many converted, refunded for slippage, the worst slippage of a
    conversion against its quote, and the conversions by hops."""
    console.rule("cross-border: pay in one currency, settle in another")
    worst = section.get("worst_slippage_bps")
    hops = ", ".join(
        f"{n} hop{'s' if n != '1' else ''}: {c}" for n, c in section.get("route_hops", {}).items()
    )
    console.print(
        f"{section.get('payments', 0)} payments, {section.get('converted', 0)} converted, "
        f"{section.get('refunded_for_slippage', 0)} refunded for slippage; worst slippage against the "
        f"quote {'-' if worst is None else f'{worst:.1f} bps'}; routes {hops or '-'}"
    )


def print_escrow(console: Console, escrow: Mapping[str, Any], symbol: str) -> None:
    """The milestone escrow's outcome: each milestone's status and score, the ruling, who got what."""
    unit = 10 ** int(escrow.get("decimals", 18))

    def money(units: int) -> str:
        return f"{units / unit:,.2f} {symbol}"

    milestones = escrow.get("milestones", [])
    console.rule("escrow: supply-chain finance behind the same risk gate")
    console.print(
        f"agreement {escrow.get('agreement_id')}: {len(milestones)} milestones, "
        f"{money(int(escrow.get('funded', 0)))} funded by the buyer"
    )
    dispute = escrow.get("dispute") or {}
    for m in milestones:
        score = m.get("score")
        line = (
            f"  milestone {m['index']}: {money(int(m['amount']))} {m['status'].lower()}"
            f"{f', score {score:,} bps' if score is not None else ', no final score'}"
        )
        console.print(line)
        if dispute and dispute.get("milestone") == m["index"]:
            console.print(
                f"    disputed by the {dispute.get('opened_by', 'buyer')}; the arbiter ruled "
                f"{int(dispute.get('supplier_bps', 0)) // 100}% of it to the supplier"
            )
    console.print(
        f"supplier received {money(int(escrow.get('supplier_received', 0)))}, "
        f"buyer refunded {money(int(escrow.get('buyer_refunded', 0)))},"
    )
    console.print(
        f"arbiter paid {money(int(escrow.get('arbiter_paid', 0)))}, "
        f"still escrowed {money(int(escrow.get('still_escrowed', 0)))}"
    )


def next_steps(
    env: Mapping[str, str], explain_id: int | None, period: tuple[str, str], live: bool
) -> list[str]:
    """What to run next, as commands. `env`: the node's VERDICT_* settings (RPC URL, record, store,
    model); `live`: whether the demo's chain is still up (the dashboard run) or already stopped."""
    names = ("VERDICT_RPC_URL", "VERDICT_DEPLOYMENT", "VERDICT_STORE_URL", "VERDICT_MODEL_DIR")
    if live:
        lines = ["In another terminal, while this runs (Ctrl-C here stops the chain):"]
    else:
        lines = [
            "The demo's chain has stopped. To look around, run the demo with the dashboard,",
            "which keeps the chain, the node and the dashboard up until Ctrl-C:",
            "  make demo-dashboard                      # dashboard on http://127.0.0.1:8050/",
            "  make demo-dashboard DASHBOARD_PORT=8060  # the same on another port",
            "It prints the settings of its own chain (a new one); then, for example:",
        ]
    if live:  # a stopped chain's address would only lead to "connection refused"
        lines.append("  export " + " ".join(f"{name}={env[name]}" for name in names if name in env))
    if explain_id is not None:
        lines.append(
            f"  .venv/bin/verdict explain {explain_id}      # why the oracle stopped it, checked on chain"
        )
    report = f"report suspicious --from {period[0]} --to {period[1]} --format csv --out sar.csv"
    lines.append(f"  .venv/bin/verdict {report}")
    return lines


def print_next_steps(console: Console, lines: list[str]) -> None:
    console.rule("next")
    for line in lines:
        # Commands are printed whole (soft wrap): cut, they could not be copied and run.
        console.print(Text(line), soft_wrap=True)
