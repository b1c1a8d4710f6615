"""docs/screenshots/*.png of every dashboard page (`ape run screenshots --network ethereum:local:foundry`).

On a fresh local chain, a demo in small: a model trained with its PR curve, the suite and the DAO,
the oracle daemon, a scenario's payments (every fraud typology, some held for review), a structuring
run just below the reporting threshold, one executed governance round and one proposal mid-vote.
Then `verdict dashboard` with the reviewer's key, and Debian's headless chromium through Playwright
takes a full-page screenshot of each page (the review queue after one approval).
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ape import networks
from eth_utils import keccak
from rich.console import Console

from oracle.datagen import generate, generate_scenario
from oracle.launch import DaemonProcess
from oracle.traffic import ERC20_ABI, call_tx
from oracle.train import train
from verdict_demo.dashboard import CHROMIUM, CHROMIUM_ARGS, free_port, start_dashboard, wait_healthy
from verdict_demo.replay import Replay, fund_payers, prime_store
from verdict_demo.story import DemoError
from verdict_deploy import MANIFEST, Dao, Roles, deploy_world, thresholds_of, verdict_settings
from verdict_deploy.governance import (
    SUPPORT,
    advance,
    advance_past,
    encode_call,
    ensure_delegated,
    propose,
    review_share_threshold,
    run_threshold_round,
)

ROOT = Path(__file__).resolve().parents[1]
MAX_HEIGHT = 1400
PAGES = (
    ("live", "/"),
    ("review", "/review"),
    ("governance", "/governance"),
    ("model", "/model"),
    ("health", "/health"),
    ("report", "/report"),
)


def take_screenshots(payments: int, seed: int, workdir: str, out_dir: str) -> None:
    """Screenshots of every dashboard page against a demo-like local chain; raises DemoError on failure."""
    console = Console()
    work = ROOT / workdir
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    store_url = f"sqlite:///{work / 'verdict.sqlite'}"

    scenario = generate_scenario(n_accounts=40, n_payments=payments, seed=seed)
    with console.status("training a model (with its PR curve)..."):
        frame = generate(
            rows=40_000,
            seed=seed,
            fraud_rate=0.01,
            payments_per_consumer_day=scenario.payments_per_consumer_day,
        )
        artifact, _ = train(frame, label="is_fraud", time_col="timestamp", seed=seed, out=work / "model")

    roles = Roles.local()
    node, reviewer, members = roles.node, roles.reviewer, roles.members
    review, reject = thresholds_of(artifact)
    with console.status("deploying the suite and the DAO..."):
        world = deploy_world(
            roles, models=[artifact.model_id], thresholds=(review, reject), dao=Dao.GOVERNS, root=work
        )
    contracts, router, deployment = world.contracts, world.router, world.deployment
    governor = contracts["CommunityGovernor"]
    config = world.governance
    assert config is not None  # Dao.GOVERNS deployed one

    replay = Replay.on(world, scenario, seed, networks.provider.uri, MANIFEST)
    client, sender, watcher = replay.chain, replay.sender, replay.watcher
    stable = str(world.stablecoin.address)
    with console.status("funding payers, priming the store..."):
        fund_payers(replay, scenario)
        prime_store(store_url, scenario, replay)

    env = verdict_settings(
        deployment,
        store_url=store_url,
        model_dir=work / "model",
        poll_interval="0.005",
        metrics_port="0",
        log_format="json",
    )
    daemon = DaemonProcess.start({**env, "VERDICT_NODE_KEY": node.private_key}, work / "daemon.log")
    dashboard: DaemonProcess | None = None
    try:
        daemon.wait_ready()
        rows = [r for r in scenario.live.itertuples() if r.payer != r.payee]
        with console.status(f"replaying {len(rows)} payments..."):
            for row in rows:
                replay.wait_outcome(replay.send(row))
        with console.status("a structuring run: three payments just below $10,000..."):
            smurf, receiver = replay.wallets[1], replay.wallets[2]
            erc20 = client.w3.eth.contract(stable, abi=ERC20_ABI)
            for call in (
                erc20.functions.mint(smurf.address, 50_000 * 10**6),
                erc20.functions.approve(router.address, 2**256 - 1),
            ):
                sender.wait(sender.send(smurf, call_tx(call, gas=120_000)))
            for n, usd in enumerate((9_450, 9_800, 9_620)):
                latest = int(client.w3.eth.get_block("latest")["timestamp"])
                client.w3.provider.make_request("evm_setNextBlockTimestamp", [latest + 1800])
                call = client.router.functions.pay(
                    receiver.address, stable, usd * 10**6, keccak(text=f"smurf:{n}")
                )
                receipt = sender.wait(sender.send(smurf, call_tx(call, gas=250_000)))
                assert int(receipt["status"]) == 1
            time.sleep(2)
        with console.status("governance: one routine round executed, one proposal mid-vote..."):
            run_threshold_round(contracts, members, review_share_threshold(review, 2.0, config.review_band))
            ensure_delegated(contracts["CommunityToken"], members)
            advance(1)
            proposal = propose(
                governor,
                [encode_call(router, "setFeeBps", 40)],
                "Raise the protocol fee to 40 bps to fund the reviewers' desk",
                members[0],
            )
            advance_past(int(governor.proposalSnapshot(proposal.proposal_id)))
            governor.castVote(proposal.proposal_id, SUPPORT["for"], sender=members[0])
            governor.castVote(proposal.proposal_id, SUPPORT["against"], sender=members[1])

        port = free_port()
        dashboard = start_dashboard(
            {**env, "VERDICT_REVIEWER_KEY": reviewer.private_key}, work / "dashboard.log", port
        )
        base = f"http://127.0.0.1:{port}"
        if not wait_healthy(base, dashboard):
            raise DemoError(f"the dashboard did not come up; see {dashboard.log_path}")
        day = datetime.fromtimestamp(int(client.w3.eth.get_block("latest")["timestamp"]), UTC).date()
        out = ROOT / out_dir
        out.mkdir(parents=True, exist_ok=True)
        _shoot(base, out, day - timedelta(days=2), day, console)
    finally:
        if dashboard is not None:
            dashboard.stop()
        daemon.stop()
        watcher.stop()


def _shoot(base: str, out: Path, start, end, console: Console) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
        page.set_default_timeout(30_000)
        for name, path in PAGES:
            url = base + path
            if name == "report":
                url += f"?from={start}&to={end}&preview=1"
            page.goto(url)
            page.evaluate("document.getElementById('auto-refresh').checked = false")
            if name == "review" and page.locator("button.approve").count():
                page.locator("button.approve").first.click()
                page.locator("#review-confirm-yes").click()  # the dashboard asks before it signs
                page.locator("#review-status").wait_for()
                page.locator("#decided").wait_for()
                page.wait_for_function("!document.querySelector('button[data-review]:disabled')")
            if name == "model":
                page.locator("#pr-curve").wait_for()
            target = out / f"{name}.png"
            # The whole page, but at most MAX_HEIGHT pixels of it: long tables need not bloat the repo.
            height = min(MAX_HEIGHT, int(page.evaluate("document.documentElement.scrollHeight")))
            page.screenshot(
                path=str(target), full_page=True, clip={"x": 0, "y": 0, "width": 1360, "height": height}
            )
            console.print(f"wrote {target.relative_to(ROOT)}")
        browser.close()
