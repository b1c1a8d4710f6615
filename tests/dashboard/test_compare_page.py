"""The champion-vs-challenger page in a real Chromium: reached from the nav, it shows the same
comparison (numbers and hash) as its JSON download, from a node store holding both models' scores;
that download is what a model-approval proposal cites, and only for its own challenger."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from ape import chain
from playwright.sync_api import expect

from oracle.calibration import Calibration
from oracle.features import OnlineFeatures, PaymentRecord
from oracle.model import ModelArtifact, save
from oracle.shadow import ShadowLog, ShadowRow
from oracle.store import Store

PAYMENTS = 12
# champion decision, challenger decision: 9 agree, 3 differ
DECISIONS = [("settle", "settle")] * 8 + [("review", "review"), ("settle", "review"), ("review", "settle")]
DECISIONS += [("reject", "review")]


def challenger_of(champion: ModelArtifact, directory) -> ModelArtifact:
    """A challenger without training: the champion's trees under a recalibrated (so re-identified) scale."""
    cal = champion.calibration.to_dict()
    cal["fitted_on"] = {**cal.get("fitted_on", {}), "variant": "challenger"}
    artifact = ModelArtifact.from_booster(
        champion.booster, Calibration.from_dict(cal), champion.metadata, 9_900, 9_990
    )
    save(artifact, directory)
    return artifact


def fill_store(url: str, champion: str, challenger: str, payer: str, payee: str) -> None:
    """Twelve router payments scored by the champion and, in shadow, by a challenger."""
    now = int(chain.pending_timestamp)
    store = Store(url)
    records = [
        PaymentRecord(f"router:{i}", payer, payee, "mUSD", 50.0 + i, now - 600 + i) for i in range(1, 13)
    ]
    OnlineFeatures(store).compute_many(records)
    store.record_scored_many(
        [
            {
                "key": r.key,
                "target": "0x" + "11" * 20,
                "item_id": r.key.split(":")[1],
                "score_bps": 5_000,
                "decision": champ,
                "model_id": champion,
                "reasons": [],
                "reasons_hash": "0x" + "00" * 32,
                "features": {},
                "probability": 0.01,
            }
            for r, (champ, _) in zip(records, DECISIONS, strict=True)
        ]
    )
    ShadowLog(url).record_many(
        [
            ShadowRow(r.key, challenger, champion, 6_000, 0.02, shadow, 9_900, 9_990, 0.5, 0.4, time.time())
            for r, (_, shadow) in zip(records, DECISIONS, strict=True)
        ]
    )
    store.close()


def test_compare_page_shows_the_comparison_a_proposal_cites(
    dao_world, dashboard, page, verdict_env, dash_artifact, dash_model_dir, payer, payee, members, tmp_path
):
    from verdict_deploy import console

    challenger = challenger_of(dash_artifact, tmp_path / "challenger")
    fill_store(
        verdict_env["VERDICT_STORE_URL"], dash_artifact.model_id, challenger.model_id, str(payer), str(payee)
    )
    with urllib.request.urlopen(f"{dashboard}/compare.json", timeout=30) as response:
        download = json.loads(response.read())
    assert download["payments_compared"] == PAYMENTS
    assert download["agreement"]["same_decision"] == sum(1 for a, b in DECISIONS if a == b)

    page.goto(dashboard + "/")
    page.click('[data-nav="compare"]')
    expect(page.locator("h1")).to_have_text("Champion vs challenger")
    expect(page.locator('[data-kpi="compared"]')).to_have_text(str(PAYMENTS))
    expect(page.locator('[data-kpi="agreement"]')).to_have_text(f"{download['agreement']['rate']:.1%}")
    expect(page.locator("#comparison-hash")).to_have_text(download["sha256"])
    review = page.locator("#compare-rows tbody tr").filter(has_text="would review").locator("td")
    champion_reviews = sum(1 for a, _ in DECISIONS if a == "review")
    challenger_reviews = sum(1 for _, b in DECISIONS if b == "review")
    expect(review).to_have_text(["would review", str(champion_reviews), str(challenger_reviews)])

    # The download is what a proposal cites: its hash and both ids go into the description's body.
    cited = tmp_path / "compare.json"
    cited.write_text(json.dumps(download, indent=2))
    contracts, _ = dao_world
    console.use(contracts)
    try:
        console.delegate(sender=members[0])
        with pytest.raises(ValueError, match="not of this model"):
            console.propose_approve_model(dash_model_dir, comparison=cited, sender=members[0])
        pid = console.propose_approve_model(tmp_path / "challenger", comparison=cited, sender=members[0])
        governor = contracts["CommunityGovernor"]
        logs = governor.ProposalCreated.range(0, chain.blocks.height + 1)
        (description,) = [log.description for log in logs if int(log.proposalId) == pid]
        line = f"Champion-challenger comparison sha256:{download['sha256']}"
        assert line in description.splitlines()[1] and challenger.model_id in description
        assert dash_artifact.model_id in description.splitlines()[1]
        cited.write_text(json.dumps({**download, "payments_compared": 1_000}))  # doctored afterwards
        with pytest.raises(ValueError, match="does not match its sha256"):
            console.propose_approve_model(tmp_path / "challenger", comparison=cited, sender=members[0])
    finally:
        console.use({})  # later tests read the deployment record again
