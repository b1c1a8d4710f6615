"""Per-payer suggestions (issue 18.7): from one payer's own history only, the token and route with
the lowest expected cost for each currency its payees receive, and the hours of day with the fewest
holds, each with its reason in words, next to a popularity baseline (what most payers do).

Expected cost of paying in token T, converting (or not) to the payee's currency C, in bps of the
amount: the router's fee + the conversion (one pool fee per hop: a hop when one side is USD, two
through USD otherwise, none without a conversion) + the chance of a hold x what a hold costs (a day's
wait for a reviewer, priced as `CostModel.hold_cost_bps`). The chance of a hold is the payer's own
share of held payments with that option, shrunk towards a fixed prior (`prior_hold_rate`, worth
`prior_payments` payments), so one lucky payment does not make an option look safe. The prior is a
constant, never other payers' data: `suggest_for` is given the payer's facts only, and a test
changes every other payer's history to prove it.

    verdict suggest 0xPAYER        # reads the store (VERDICT_STORE_URL)
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from oracle.errors import DataError
from oracle.fx_features import corridor_currencies, currency_of

HOLD = "review"
"""The decision that holds a payment for a reviewer (oracle.gate.REVIEW)."""
TOP_HOURS = 3


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """One past payment as the suggestions see it."""

    key: str
    payer: str
    token: str
    currency_out: str  # the currency the payee received (the paid token's own without a conversion)
    amount_usd: float
    timestamp: int
    held: bool

    @property
    def hour(self) -> int:
        return (int(self.timestamp) % 86_400) // 3_600

    @property
    def option(self) -> tuple[str, str]:
        return (self.token, self.currency_out)


@dataclass(frozen=True)
class CostModel:
    fee_bps: float = 30.0  # PaymentRouter's default fee
    hop_bps: float = 30.0  # a Uniswap v2 pool fee
    hold_cost_bps: float = 100.0  # a day's wait for a reviewer, as a share of the amount
    prior_hold_rate: float = 0.05
    prior_payments: float = 10.0

    def hold_chance(self, holds: int, payments: int) -> float:
        return (holds + self.prior_hold_rate * self.prior_payments) / (payments + self.prior_payments)

    def hops(self, token: str, currency_out: str) -> int:
        cin = currency_of(token)
        if cin == currency_out:
            return 0
        return 1 if "USD" in (cin, currency_out) else 2

    def cost_bps(self, token: str, currency_out: str, hold_chance: float) -> float:
        return self.fee_bps + self.hops(token, currency_out) * self.hop_bps + hold_chance * self.hold_cost_bps


@dataclass(frozen=True)
class Option:
    """Paying in `token` for payees who receive `currency_out`, with what the payer's history says."""

    token: str
    currency_out: str
    payments: int
    holds: int
    hold_chance: float
    cost_bps: float
    hops: int
    tried: bool = True  # False: a token the payer uses, not yet for this currency (judged by its record)

    def option_key(self) -> tuple[str, str]:
        return (self.token, self.currency_out)

    @property
    def label(self) -> str:
        cin = currency_of(self.token)
        return self.token if cin == self.currency_out else f"{self.token} -> {self.currency_out}"

    def reason(self) -> str:
        route = (
            "no conversion" if self.hops == 0 else f"a conversion of {self.hops} hop{'s' * (self.hops > 1)}"
        )
        held = "none held" if self.holds == 0 else f"{self.holds} held"
        way = "this way" if self.tried else f"in {self.token}, not yet to {self.currency_out}"
        return (
            f"{self.label}: {route}; {self.payments} of your payments {way}, {held}: expected cost "
            f"{self.cost_bps:.0f} bps (hold chance {self.hold_chance:.1%})"
        )


@dataclass(frozen=True)
class HourPick:
    hours: tuple[int, ...]
    payments: int
    holds: int
    hold_chance: float

    def reason(self, whose: str = "your") -> str:
        spans = ", ".join(f"{h:02d}:00-{(h + 1) % 24:02d}:00" for h in self.hours)
        held = "none held" if self.holds == 0 else f"{self.holds} held"
        chance = f"hold chance {self.hold_chance:.1%}"
        return f"{spans} UTC: {self.payments} of {whose} payments then, {held} ({chance})"


@dataclass(frozen=True)
class Personal:
    """What one payer's own history suggests (nothing here depends on any other payer)."""

    payer: str
    payments: int
    best: dict[str, Option]  # by the currency the payee receives
    options: dict[str, list[Option]]  # every option used per currency, cheapest first
    hours: HourPick


@dataclass(frozen=True)
class Suggestion:
    personal: Personal
    baseline: dict[str, Option]  # the most popular option per currency, costed on this payer's history
    baseline_hours: HourPick  # the busiest hours over all payers, held share in this payer's history
    saving_bps: dict[str, float] = field(default_factory=dict)


def _options(facts: Sequence[PaymentFact], cost: CostModel) -> dict[str, list[Option]]:
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        t = tally[f.option]
        t[0] += 1
        t[1] += int(f.held)
    per_token: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (token, _), (n, holds) in tally.items():
        per_token[token][0] += n
        per_token[token][1] += holds
    out: dict[str, list[Option]] = defaultdict(list)
    for (token, ccy), (n, holds) in tally.items():
        out[ccy].append(_costed(token, ccy, n, holds, cost))
    # Every token the payer pays with is a candidate for every currency its payees receive (a
    # payer who pays USD payees in mGBP but also holds mUSD may skip the conversion); an untried
    # pair is judged by the payer's own record in that token.
    for ccy in list(out):
        for token, (n, holds) in per_token.items():
            if (token, ccy) not in tally:
                out[ccy].append(replace(_costed(token, ccy, n, holds, cost), tried=False))
    return {c: sorted(v, key=lambda o: (o.cost_bps, -o.payments, o.token)) for c, v in sorted(out.items())}


def _costed(token: str, ccy: str, n: int, holds: int, cost: CostModel) -> Option:
    chance = cost.hold_chance(holds, n)
    return Option(token, ccy, n, holds, chance, cost.cost_bps(token, ccy, chance), cost.hops(token, ccy))


def _hours(facts: Sequence[PaymentFact], cost: CostModel) -> HourPick:
    per: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        per[f.hour][0] += 1
        per[f.hour][1] += int(f.held)
    ranked = sorted(per.items(), key=lambda kv: (cost.hold_chance(kv[1][1], kv[1][0]), -kv[1][0], kv[0]))
    # Up to TOP_HOURS hours, only those no worse than the payer's own average (else just the best).
    overall = cost.hold_chance(sum(f.held for f in facts), len(facts))
    good = [h for h, (n, holds) in ranked[:TOP_HOURS] if cost.hold_chance(holds, n) <= overall]
    return _hour_pick(tuple(sorted(good or [ranked[0][0]])), facts, cost)


def _hour_pick(hours: tuple[int, ...], facts: Sequence[PaymentFact], cost: CostModel) -> HourPick:
    chosen = [f for f in facts if f.hour in hours]
    holds = sum(f.held for f in chosen)
    return HourPick(hours, len(chosen), holds, cost.hold_chance(holds, len(chosen)))


def suggest_for(payer: str, facts: Iterable[PaymentFact], cost: CostModel = CostModel()) -> Personal:
    """The payer's suggestion from its own facts: any fact of another payer is refused, not ignored,
    so no caller can mix other payers' data in by mistake."""
    own = list(facts)
    if any(f.payer != payer for f in own):
        raise ValueError("suggest_for takes the payer's own payments only")
    if not own:
        raise DataError(f"{payer}: no payments from this payer in the store")
    options = _options(own, cost)
    return Personal(payer, len(own), {c: v[0] for c, v in options.items()}, options, _hours(own, cost))


def popular(facts: Iterable[PaymentFact]) -> tuple[dict[str, tuple[str, str]], tuple[int, ...]]:
    """The popularity baseline: per currency received, the option most payers use (counted once per
    payer, by each payer's most used option); and the busiest hours over all payments."""
    per_payer: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    hours: Counter[int] = Counter()
    for f in facts:
        per_payer[f.payer][f.option] += 1
        hours[f.hour] += 1
    votes: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for counts in per_payer.values():
        by_ccy: dict[str, tuple[str, str]] = {}
        for opt, _ in counts.most_common():
            by_ccy.setdefault(opt[1], opt)
        for ccy, opt in by_ccy.items():
            votes[ccy][opt] += 1
    options = {ccy: max(v.items(), key=lambda kv: (kv[1], kv[0]))[0] for ccy, v in votes.items()}
    busiest = sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_HOURS]
    return options, tuple(sorted(h for h, _ in busiest))


def suggest(payer: str, facts: Sequence[PaymentFact], cost: CostModel = CostModel()) -> Suggestion:
    """The payer's own suggestion beside the popularity baseline, both costed on its own history."""
    own = [f for f in facts if f.payer == payer]
    personal = suggest_for(payer, own, cost)
    options, hours = popular(facts)
    baseline: dict[str, Option] = {}
    for ccy in personal.best:
        token, _ = options.get(ccy, personal.best[ccy].option_key())
        used = [f for f in own if f.option == (token, ccy)]
        baseline[ccy] = _costed(token, ccy, len(used), sum(f.held for f in used), cost)
    saving = {c: round(baseline[c].cost_bps - personal.best[c].cost_bps, 2) for c in personal.best}
    return Suggestion(personal, baseline, _hour_pick(hours, own, cost), saving)


def facts_from_store(store: object, payer: str | None = None) -> list[PaymentFact]:
    """Payments and their verdicts from the store (all payers, or one), oldest first. The currency
    the payee received comes from the payment's FX features (`fx_corridor`); a payment scored before
    those features existed counts as one without a conversion."""
    from oracle.db import payments, verdicts

    db = store._db  # noqa: SLF001 - a read of the two tables the store owns
    q = select(
        payments.c.key,
        payments.c.payer,
        payments.c.token,
        payments.c.amount_usd,
        payments.c.timestamp,
        payments.c.features,
        verdicts.c.decision,
    ).join(verdicts, verdicts.c.key == payments.c.key)
    if payer is not None:
        q = q.where(payments.c.payer == payer)
    q = q.order_by(payments.c.timestamp, payments.c.id)
    with db.tx("reading payments for suggestions") as conn:
        rows = list(conn.execute(q))
    out = []
    for key, who, token, usd, ts, feats, decision in rows:
        corridor = corridor_currencies(float(json.loads(feats).get("fx_corridor", 0.0))) if feats else None
        ccy = corridor[1] if corridor else currency_of(token)
        out.append(PaymentFact(key, who, token, ccy, float(usd), int(ts), decision == HOLD))
    return out


def check_address(address: str) -> str:
    """The checksummed address, or DataError in one line."""
    from eth_utils import is_address, to_checksum_address

    if not isinstance(address, str) or not is_address(address):
        raise DataError(f"{address!r} is not a 0x address (40 hex digits)")
    return to_checksum_address(address)


def suggest_from_store(store: object, address: str, cost: CostModel = CostModel()) -> Suggestion:
    """`verdict suggest`: the payer's suggestion and the baseline over the whole store."""
    payer = check_address(address)
    facts = facts_from_store(store)
    own = [f for f in facts if f.payer.lower() == payer.lower()]
    if not own:
        raise DataError(f"{payer}: no scored payments from this payer in the store")
    return suggest(own[0].payer, facts, cost)


def lines(s: Suggestion) -> list[str]:
    """The suggestion in words, one line each (the CLI prints them, the dashboard shows them)."""
    p = s.personal
    out = [f"payer {p.payer}: {p.payments} scored payments (only this payer's own history is used)"]
    for ccy, best in p.best.items():
        base = s.baseline[ccy]
        out.append(f"to pay {ccy}: use {best.reason()}")
        if base.option_key() == best.option_key():
            out.append(f"  most payers do the same ({base.label})")
        else:
            out.append(
                f"  most payers use {base.label}: {base.cost_bps:.0f} bps on your history; "
                f"the suggestion saves {s.saving_bps[ccy]:.0f} bps"
            )
    out.append(f"best hours: {p.hours.reason()}")
    out.append(f"  busiest hours of all payers: {s.baseline_hours.reason()}")
    return out


def page_data(store: object, query: Mapping[str, str]) -> dict[str, object]:
    """The dashboard's Suggestions panel (`/suggest?payer=0x...`): the form's value, the suggestion
    (or one error line)."""
    payer = (query.get("payer") or "").strip()
    data: dict[str, object] = {"payer": payer, "suggestion": None, "lines": [], "error_input": None}
    if not payer:
        return data
    try:
        s = suggest_from_store(store, payer)
    except DataError as exc:
        data["error_input"] = str(exc)
        return data
    data.update(suggestion=s, lines=lines(s))
    return data
