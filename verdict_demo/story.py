"""The story `ape run demo` tells: Verdict's main job end to end on a fresh local chain.

1. train a LightGBM fraud model on synthetic labelled payments;
2. deploy the suite and approve the model's id;
3. start the oracle network: 4 nodes, each its own `verdict run` process (one is killed mid-run);
4. replay a few hundred payments from many accounts, every fraud typology among them, showing
   each decision and its reasons as it lands;
5. write `demo-summary.json` and stop everything it started (ape stops the anvil it started).
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ape import networks
from ape.logging import LogLevel, logger
from eth_account import Account
from rich.console import Console

from oracle.chain import load_abis
from oracle.config import Settings
from oracle.datagen import generate_scenario
from oracle.fx_report import cross_border_summary
from oracle.launch import DaemonProcess
from oracle.store import Store
from verdict_demo.crossborder import CURRENCIES as XB_CURRENCIES
from verdict_demo.crossborder import DemoCrossBorder, cross_border_rows
from verdict_demo.dashboard import port_in_use, start_dashboard, wait_healthy
from verdict_demo.network import DemoNetwork, describe, network_roles
from verdict_demo.replay import (
    Replay,
    fund_payers,
    prime_store,
    prime_trading_partners,
    summarize,
    train_model,
)
from verdict_demo.screen import (
    next_steps,
    print_cross_border,
    print_escrow,
    print_next_steps,
    print_summary,
    replay_live,
)
from verdict_demo.signed_votes import relayer_running, run_signed_round
from verdict_deploy import MANIFEST, Dao, Roles, deploy_world, thresholds_of, verdict_settings
from verdict_deploy.escrow import gate_waiter, run_escrow_scenario
from verdict_deploy.governance import review_share_threshold

ROOT = Path(__file__).resolve().parents[1]
FX_SLIPPAGE_DEFAULT = Settings.model_fields["fx_slippage_bps"].default


class DemoError(RuntimeError):
    """The demo (or the screenshots run) cannot go on; the message says why, in one line."""


def run_demo(
    payments: int, n_accounts: int, seed: int, workdir: str, summary: str, dashboard: bool, port: int
) -> None:
    """Runs the whole demo on the connected local chain; raises DemoError when it cannot go on."""
    if dashboard and (busy := port_in_use(port)):
        # Before minutes of demo, not after: the dashboard could not listen at the end.
        raise DemoError(
            f"port {port} on 127.0.0.1 is in use ({busy}): stop what listens there or pick another "
            f"port (make demo-dashboard DASHBOARD_PORT=8060, or --port 8060)"
        )
    console = Console()
    logger.set_level(LogLevel.WARNING)  # one line per transaction would bury the story
    work = ROOT / workdir
    work.mkdir(parents=True, exist_ok=True)
    store_path = work / "verdict.sqlite"
    for stale in work.glob("verdict.sqlite*"):
        stale.unlink()
    store_url = f"sqlite:///{store_path}"

    # 1. the traffic, and a model trained at its density (payments per consumer a day), its risk
    # scale placed on the legitimate traffic of the scenario's own population
    scenario = generate_scenario(n_accounts=n_accounts, n_payments=payments, seed=seed)
    artifact, _ = train_model(work / "model", seed, console, scenario)

    # 2. the suite, with the model approved (later models go through governance). Genesis policy:
    # the router's defaults, 9,900 / 9,990 on the legitimate-quantile scale (about 1% of legitimate
    # payments reviewed, 0.1% refunded, under any approved model): no threshold vote first. From
    # here on only the DAO changes them, the routine track within its bands.
    roles = network_roles(Roles.local())  # 4 oracle nodes, threshold 3 (verdict_demo/network.py)
    buyer, supplier = roles.buyer, roles.supplier
    with console.status("deploying the suite and handing its policy to the DAO..."):
        world = deploy_world(
            roles,
            models=[artifact.model_id],
            escrow=True,
            dao=Dao.GOVERNS,
            usdc=True,
            record=work / "deployment.json",  # never the long-lived chain's deployments/local.json
            fx=True,  # cross-border payments: Uniswap pools, feeds, the CrossBorderRouter
            fx_currencies=XB_CURRENCIES,
        )
    contracts, config, deployment_file = world.contracts, world.governance, world.deployment
    assert config is not None  # Dao.GOVERNS deployed one
    router = contracts["PaymentRouter"]
    review, reject = int(router.reviewThreshold()), int(router.rejectThreshold())
    proposed = thresholds_of(artifact)
    console.print(
        f"deployed {len(contracts)} contracts; the router's default policy: review at score "
        f"≥ {review:,} bps, reject at ≥ {reject:,} bps (the model proposes {proposed[0]:,} / {proposed[1]:,})"
    )
    shown = deployment_file.relative_to(ROOT) if deployment_file.is_relative_to(ROOT) else deployment_file
    console.print(f"demo chain {networks.provider.uri}, record {shown}")

    # 3. the scenario's accounts, with their KYC profiles and a month of history in the store
    replay = Replay.on(world, scenario, seed, networks.provider.uri, MANIFEST)
    client, watcher = replay.chain, replay.watcher
    with console.status("funding payers and priming the feature store with their history..."):
        fund_payers(replay, scenario)
        primed = prime_store(store_url, scenario, replay)
    opened = len(scenario.accounts) - n_accounts
    console.print(
        f"{len(scenario.accounts)} accounts ({n_accounts} plus {opened} the fraud episodes opened), "
        f"{primed:,} past payments in the feature store"
    )

    # 4. the oracle network: 4 nodes, each its own `verdict run` (node 0 with the store above)
    daemon_env = verdict_settings(deployment_file, store_url=store_url, model_dir=work / "model")
    daemon = DemoNetwork.start(daemon_env, roles, work, store_path)
    store = Store(store_url)
    try:
        try:
            daemon.wait_ready()
        except RuntimeError as exc:
            raise DemoError(str(exc)) from None
        # A contract refuses to let an account pay itself; the generator occasionally draws one.
        rows = [r for r in scenario.live.itertuples() if r.payer != r.payee]
        half = len(rows) // 2
        replay_live(replay, rows[:half], store, console, "payments, first half")
        console.print(f"oracle node {daemon.kill_one()} killed (kill -9); the other three carry on")
        before_vote = len(replay.sent)
        # Fraud got through in the first half: the community votes (routine track) to review the
        # riskiest 2% of legitimate traffic instead of 1% (9,900 -> 9,800 on the quantile scale).
        new_review = review_share_threshold(review, 2.0, config.review_band)
        # Half the members vote by signature only, through the DAO's relayer (no ETH spent).
        direct, signed = roles.members[: len(roles.members) // 2], roles.members[len(roles.members) // 2 :]
        with (
            relayer_running(daemon_env, work, roles.relayer) as relay_url,
            console.status(f"DAO vote: review threshold {review:,} -> {new_review:,} bps..."),
        ):
            governance = run_signed_round(contracts, direct, signed, new_review, relay_url)
        before, after = governance["threshold_before"], governance["threshold_after"]
        console.print(
            f"proposal {str(governance['proposal_id'])[:12]}… {governance['state']} on the "
            f"{governance['track']} track: review threshold {before:,} -> {after:,} bps; "
            f"{governance['signed_votes']} votes by signature through the relayer "
            f"({governance['relayer_gas_spent']:,} gas, paid by the DAO's VoteRelay)"
        )
        replay_live(replay, rows[half:], store, console, "payments, second half")
        result = summarize(replay, client.oracle, split=before_vote)
        # Cross-border: some legitimate payers pay again, in mUSD for a payee paid in mEUR or mGBP.
        assert world.fx is not None
        cross_border = DemoCrossBorder(
            replay,
            world.fx,
            feeder=Account.from_key(roles.deployer.private_key),
            abis=load_abis(MANIFEST),
            start_block=world.start_block,
            slippage_bps=int(daemon_env.get("VERDICT_FX_SLIPPAGE_BPS", FX_SLIPPAGE_DEFAULT)),
        ).run(cross_border_rows(rows), console)
        # Supply-chain finance: three milestones behind the same risk gate, one disputed.
        for node_store in daemon.store_urls:  # every node scores the release with the same history
            prime_trading_partners(
                node_store, str(buyer), str(supplier), int(client.w3.eth.get_block("latest")["timestamp"])
            )
        with console.status("escrow: three milestones, one disputed and ruled on..."):
            escrow = run_escrow_scenario(
                world.escrow, world.stablecoin, buyer, supplier, roles.arbiters[0], gate_waiter(world.escrow)
            )
        result = summary_document(
            result, escrow, governance, artifact.model_id, daemon.summary(client), cross_border
        )
        (ROOT / summary).write_text(json.dumps(result, indent=2) + "\n")
        print_summary(console, result, summary)
        console.print(describe(result["oracle"]))
        print_cross_border(console, result["cross_border"])
        print_escrow(console, result["escrow"], client.token_info(result["escrow"]["token"]).symbol)
        steps = next_steps(daemon_env, explain_candidate(replay), chain_period(client, replay), dashboard)
        if dashboard:
            _serve_dashboard(
                console,
                {**daemon_env, "VERDICT_REVIEWER_KEY": roles.reviewer.private_key},
                work,
                port,
                steps,
            )
        else:
            print_next_steps(console, steps)
    finally:
        daemon.stop()
        watcher.stop()
        store.close()
    if dashboard:
        console.print("stopped")

    if result["settled_without_verdict"] != 0:
        raise DemoError("a payment settled without a verdict: this must never happen")


def summary_document(
    result: dict[str, Any],
    escrow: dict[str, Any],
    governance: dict[str, Any],
    model_id: str,
    oracle: dict[str, Any] | None = None,
    cross_border: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """demo-summary.json: the replay's figures (`replay.summarize`), the escrow's outcome, the DAO's
    threshold vote, the model and the oracle network (`network.DemoNetwork.summary`); its keys are
    `screen.SUMMARY_FIELDS`, which README.md lists."""
    return {
        **result,
        "escrow": escrow,
        "governance": {**governance, "proposal_id": str(governance.get("proposal_id"))},
        "model_id": model_id,
        "oracle": oracle or {},
        "cross_border": cross_border or cross_border_summary([]),
    }


def explain_candidate(replay: Replay) -> int | None:
    """A payment worth `verdict explain`: the first the gate stopped, else the last one sent."""
    for payment_id, _row in replay.sent:
        if replay.watcher.outcomes.get(payment_id, ("",))[0] in ("held", "refunded"):
            return payment_id
    return replay.sent[-1][0] if replay.sent else None


def chain_period(client: Any, replay: Replay) -> tuple[str, str]:
    """The demo's days on the chain's clock (which the replay moved ahead of the wall clock)."""
    head = int(client.w3.eth.get_block("latest")["timestamp"])
    return _day(replay.live_start), _day(head)


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def _serve_dashboard(console: Console, env: dict[str, str], work: Path, port: int, steps: list[str]) -> None:
    """Keeps the chain and the node up and serves the dashboard until Ctrl-C (or SIGTERM). The URL
    is printed once the dashboard answers; DemoError if it does not, or if it dies on its own."""
    dashboard = start_dashboard({**env, "VERDICT_LOG_FORMAT": "json"}, work / "dashboard.log", port)
    url = f"http://127.0.0.1:{port}/"
    if not wait_healthy(url.rstrip("/"), dashboard):
        code = dashboard.stop()
        raise DemoError(f"the dashboard did not start on {url} (exit code {code}); see {dashboard.log_path}")
    console.print(f"[bold]dashboard:[/] {url}  (reviewing as the demo's reviewer; Ctrl-C stops)")
    print_next_steps(console, steps)
    try:
        _wait_for_stop_signal(dashboard)
    finally:
        code = dashboard.stop()
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise DemoError(f"the dashboard exited with code {code}; see {dashboard.log_path}")


def _wait_for_stop_signal(dashboard: DaemonProcess) -> None:
    """Returns on the first SIGINT or SIGTERM, or if the dashboard exits; later ones are ignored from
    then on.

    ape's own handlers for these signals stop anvil and exit from inside whatever is running, before
    the demo has stopped its daemon and dashboard; and a second Ctrl-C lands inside ape's atexit hooks
    and prints a traceback. So the demo takes the signals over here, stops its processes on the way
    out as on any return, and leaves anvil to ape's ordinary exit.
    """
    stop = threading.Event()

    def note(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, note)
    while not stop.is_set() and dashboard.running:
        stop.wait(0.2)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # the shutdown is short and bounded: let it finish
