"""The story `ape run demo` tells: Verdict's main job end to end on a fresh local chain.

1. train a LightGBM fraud model on synthetic labelled payments;
2. deploy the suite and approve the model's id;
3. start the oracle daemon (`verdict run`) as its own process;
4. replay a few hundred payments from many accounts, every fraud typology among them, showing
   each decision and its reasons as it lands;
5. write `demo-summary.json` and stop everything it started (ape stops the anvil it started).
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType

from ape import networks
from ape.logging import LogLevel, logger
from rich.console import Console

from oracle.datagen import generate_scenario
from oracle.launch import DaemonProcess
from oracle.store import Store
from verdict_demo.dashboard import start_dashboard
from verdict_demo.replay import (
    Replay,
    fund_payers,
    prime_store,
    prime_trading_partners,
    replay_live,
    summarize,
    train_model,
)
from verdict_deploy import MANIFEST, Dao, Roles, deploy_world, thresholds_of, verdict_settings
from verdict_deploy.escrow import gate_waiter, run_escrow_scenario
from verdict_deploy.governance import review_share_threshold, run_threshold_round

ROOT = Path(__file__).resolve().parents[1]


class DemoError(RuntimeError):
    """The demo (or the screenshots run) cannot go on; the message says why, in one line."""


def run_demo(
    payments: int, n_accounts: int, seed: int, workdir: str, summary: str, dashboard: bool, port: int
) -> None:
    """Runs the whole demo on the connected local chain; raises DemoError when it cannot go on."""
    console = Console()
    logger.set_level(LogLevel.WARNING)  # one line per transaction would bury the story
    work = ROOT / workdir
    work.mkdir(parents=True, exist_ok=True)
    store_path = work / "verdict.sqlite"
    for stale in work.glob("verdict.sqlite*"):
        stale.unlink()
    store_url = f"sqlite:///{store_path}"

    # 1. the traffic, and a model trained at its density (payments per consumer a day)
    scenario = generate_scenario(n_accounts=n_accounts, n_payments=payments, seed=seed)
    artifact, _ = train_model(work / "model", seed, console, scenario.payments_per_consumer_day)

    # 2. the suite, with the model approved (later models go through governance). Genesis policy:
    # the router's defaults, 9,900 / 9,990 on the legitimate-quantile scale (about 1% of legitimate
    # payments reviewed, 0.1% refunded, under any approved model): no threshold vote first. From
    # here on only the DAO changes them, the routine track within its bands.
    roles = Roles.local()
    buyer, supplier = roles.buyer, roles.supplier
    with console.status("deploying the suite and handing its policy to the DAO..."):
        world = deploy_world(
            roles,
            models=[artifact.model_id],
            escrow=True,
            dao=Dao.GOVERNS,
            usdc=True,
            record=work / "deployment.json",  # never the long-lived chain's deployments/local.json
        )
    contracts, config, deployment_file = world.contracts, world.governance, world.deployment
    assert config is not None  # Dao.GOVERNS deployed one
    router = contracts["PaymentRouter"]
    review, reject = int(router.reviewThreshold()), int(router.rejectThreshold())
    proposed = thresholds_of(artifact)
    console.print(
        f"deployed {len(contracts)} contracts; policy (router defaults): review {review} bps, "
        f"reject {reject} bps (the model proposes {proposed[0]} / {proposed[1]})"
    )
    shown = deployment_file.relative_to(ROOT) if deployment_file.is_relative_to(ROOT) else deployment_file
    console.print(f"demo chain {networks.provider.uri}, record {shown}")

    # 3. the scenario's accounts, with their KYC profiles and a month of history in the store
    replay = Replay.on(world, scenario, seed, networks.provider.uri, MANIFEST)
    client, watcher = replay.chain, replay.watcher
    with console.status("funding payers and priming the feature store with their history..."):
        fund_payers(replay, scenario)
        primed = prime_store(store_url, scenario, replay)
    console.print(f"{len(scenario.accounts)} accounts, {primed} past payments in the feature store")

    # 4. the oracle node
    daemon_env = verdict_settings(deployment_file, store_url=store_url, model_dir=work / "model")
    daemon = DaemonProcess.start(
        {
            **daemon_env,
            "VERDICT_NODE_KEY": roles.node.private_key,
            "VERDICT_POLL_INTERVAL": "0.005",
            "VERDICT_METRICS_PORT": "0",
        },
        work / "daemon.log",
    )
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
        before_vote = len(replay.sent)
        # Fraud got through in the first half: the community votes (routine track) to review the
        # riskiest 2% of legitimate traffic instead of 1% (9,900 -> 9,800 on the quantile scale).
        new_review = review_share_threshold(review, 2.0, config.review_band)
        with console.status(f"DAO vote: review threshold {review} -> {new_review} bps..."):
            governance = run_threshold_round(contracts, roles.members, new_review)
        before, after = governance["threshold_before"], governance["threshold_after"]
        console.print(
            f"proposal {str(governance['proposal_id'])[:12]}… {governance['state']} on the "
            f"{governance['track']} track: review threshold {before} -> {after} bps"
        )
        replay_live(replay, rows[half:], store, console, "payments, second half")
        result = summarize(replay, client.oracle, split=before_vote)
        # Supply-chain finance: three milestones behind the same risk gate, one disputed.
        prime_trading_partners(
            store_url, str(buyer), str(supplier), int(client.w3.eth.get_block("latest")["timestamp"])
        )
        with console.status("escrow: three milestones, one disputed and ruled on..."):
            result["escrow"] = run_escrow_scenario(
                world.escrow, world.stablecoin, buyer, supplier, roles.arbiters[0], gate_waiter(world.escrow)
            )
        result["governance"] = {**governance, "proposal_id": str(governance["proposal_id"])}
        result["model_id"] = artifact.model_id
        (ROOT / summary).write_text(json.dumps(result, indent=2) + "\n")
        _print_summary(console, result, summary)
        if dashboard:
            _serve_dashboard(
                console, {**daemon_env, "VERDICT_REVIEWER_KEY": roles.reviewer.private_key}, work, port
            )
    finally:
        daemon.stop()
        watcher.stop()
        store.close()
    if dashboard:
        console.print("stopped")

    if result["settled_without_verdict"] != 0:
        raise DemoError("a payment settled without a verdict: this must never happen")


def _serve_dashboard(console: Console, env: dict[str, str], work: Path, port: int) -> None:
    """Keeps the chain and the node up and serves the dashboard until Ctrl-C (or SIGTERM)."""
    dashboard = start_dashboard({**env, "VERDICT_LOG_FORMAT": "json"}, work / "dashboard.log", port)
    console.print(
        f"[bold]dashboard:[/] http://127.0.0.1:{port}/  (reviewing as the demo's reviewer; Ctrl-C stops)"
    )
    try:
        _wait_for_stop_signal(dashboard)
    finally:
        code = dashboard.stop()
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        console.print(f"[red]the dashboard exited with code {code}; see {dashboard.log_path}[/]")


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


def _print_summary(console: Console, result: dict, path: str) -> None:
    console.rule("summary")
    for key in (
        "payments",
        "verdicts",
        "settled",
        "held",
        "refunded",
        "settled_without_verdict",
        "frauds",
        "frauds_caught",
        "frauds_missed",
        "legit_payments",
        "legit_review_rate",
        "legit_review_rate_before_vote",
        "legit_review_rate_after_vote",
        "legit_refund_rate",
        "latency_ms_p50",
        "latency_ms_p99",
    ):
        console.print(f"{key:>24}  {result.get(key)}")
    console.print(f"written to {path}")
