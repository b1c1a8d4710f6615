"""Champion-challenger end to end: a real `verdict run --shadow` on anvil scores forty generated
payments (legitimate and every fraud typology) with both models, posts only the champion's
verdicts, and `verdict compare` reports numbers that match the store (and labels that match the
chain)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from ape import chain
from e2e_helpers import wait_until
from typer.testing import CliRunner

from oracle.cli import app
from oracle.datagen import generate
from oracle.model import load
from oracle.train import train
from verdict_deploy import verdict_settings
from verdict_deploy.traffic import onboard, plan_traffic, send_traffic

PENDING, HELD, SETTLED, REFUNDED = 1, 2, 3, 4
PAYMENTS = 40


@pytest.fixture(scope="module")
def challenger_dir(tmp_path_factory):
    """Another real model (other data, other seed, no search): a different model id and scores."""
    out = tmp_path_factory.mktemp("challenger")
    train(generate(rows=8_000, seed=23, fraud_rate=0.02), "is_fraud", time_col="timestamp", seed=23, out=out)
    return out


def test_shadow_node_and_compare_agree_with_the_store_and_the_chain(
    world, start_daemon, client, model_dir, challenger_dir, artifact, reviewer, tmp_path
):
    contracts, deployment = world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    # Generated consumers and merchants with every fraud typology, onboarded as `ape run traffic` does.
    plan = plan_traffic(client, count=PAYMENTS, mix="default", seed=3)
    onboard(f"sqlite:///{tmp_path / 'node.sqlite'}", plan, int(chain.pending_timestamp))
    daemon = start_daemon(shadow_model_dir=str(challenger_dir))
    assert daemon.wait_for("shadow model loaded", timeout=30)
    summary = send_traffic(client, plan, rate=PAYMENTS, wait=90)
    ids = list(range(summary["first_id"], summary["last_id"] + 1))
    assert summary["sent"] == len(ids) == PAYMENTS
    status = lambda pid: int(router.payment(pid).status)  # noqa: E731
    assert wait_until(lambda: all(status(p) != PENDING for p in ids), timeout=60)
    frauds = set(summary["frauds"])
    for pid in ids:  # a reviewer who knows: rejects the held frauds, approves the rest
        if status(pid) == HELD:
            router.review(pid, pid not in frauds, sender=reviewer)
    store_path = tmp_path / "node.sqlite"
    db = sqlite3.connect(store_path)
    shadow_count = lambda: db.execute("SELECT count(*) FROM shadow_verdicts").fetchone()[0]  # noqa: E731
    assert wait_until(lambda: shadow_count() == PAYMENTS, timeout=60)

    # only the champion's verdicts reached the chain
    posted = oracle.VerdictPosted.query("event_arguments", start_block=0)["event_arguments"]
    assert len(posted) == PAYMENTS
    assert {"0x" + bytes(a["modelId"]).hex() for a in posted} == {artifact.model_id}

    env = verdict_settings(deployment, store_url=f"sqlite:///{store_path}", model_dir=model_dir)
    out = tmp_path / "compare.json"
    result = CliRunner().invoke(app, ["compare", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    comparison = json.loads(out.read_text())
    assert f"comparison sha256: {comparison['sha256']}" in result.output
    again = CliRunner().invoke(app, ["compare", "--json"], env=env)  # run twice: the same comparison
    assert again.exit_code == 0 and json.loads(again.stdout) == comparison

    rows = db.execute(
        "SELECT v.key, v.decision, s.decision, s.model_id FROM verdicts v JOIN shadow_verdicts s USING (key)"
    ).fetchall()
    assert comparison["payments_compared"] == len(rows) == PAYMENTS
    assert comparison["challenger"]["model_id"] == load(challenger_dir).model_id == rows[0][3]
    assert comparison["champion"]["model_ids"] == [artifact.model_id]
    assert comparison["agreement"]["same_decision"] == sum(1 for _, a, b, _ in rows if a == b)
    for side, column in (("champion", 1), ("challenger", 2)):
        for decision in ("settle", "review", "reject"):
            assert comparison[side]["decisions"][decision] == sum(1 for r in rows if r[column] == decision)
    # labels from the chain: settled is legitimate; reviewer-rejected or gate-refunded is fraud
    statuses = {f"router:{pid}": status(pid) for pid in ids}
    assert comparison["labels"]["legitimate"] == sum(1 for s in statuses.values() if s == SETTLED)
    assert comparison["labels"]["fraud"] == sum(1 for s in statuses.values() if s == REFUNDED)
    refunded = {k for k, s in statuses.items() if s == REFUNDED}
    catches = {"review", "reject"}
    caught = sum(1 for r in rows if r[0] in refunded and r[2] in catches)
    assert comparison["challenger"]["frauds_caught"] == caught
    assert comparison["champion"]["frauds_caught"] == len(refunded)  # its own stops, by construction
    db.close()
