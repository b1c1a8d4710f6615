"""What an operator does in the dashboard, in a real headless Chromium, against a real chain with the
oracle daemon running: every page loads, a held payment is approved from the queue and settles on
chain, a proposal's votes show up as members vote, and the compliance report downloads."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ape import chain
from playwright.sync_api import expect

from verdict_deploy import Dao
from verdict_deploy.governance import SUPPORT, advance, advance_past, encode_call, ensure_delegated, propose

ETH = "0x0000000000000000000000000000000000000000"
PENDING, HELD, SETTLED, REFUNDED = 1, 2, 3, 4
PAGES = {
    "/": "Live payments",
    "/review": "Review queue",
    "/governance": "Governance",
    "/model": "Model card",
    "/health": "Oracle health",
    "/report": "Compliance report",
}


def wait_until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def post_review(base: str, payment_id: int, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{base}/api/review/{payment_id}",
        data=b'{"approve": true}',
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def status(router, payment_id: int) -> int:
    return int(router.payment(payment_id).status)


def decided(router, ids) -> bool:
    return all(status(router, i) != PENDING for i in ids)


def test_every_page_loads_and_the_report_downloads_with_structuring(
    dao_world,
    oracle_node,
    dashboard,
    page,
    deployer,
    payer,
    payee,
    accounts,
    dash_artifact,
    verdict_env,
    tmp_path,
):
    contracts, _ = dao_world
    router, stable = contracts["PaymentRouter"], contracts["MockStablecoin"]
    stable.mint(payer, 100_000 * 10**6, sender=deployer)
    stable.approve(router, 2**256 - 1, sender=payer)
    # Three payments just below the $10,000 reporting threshold, minutes apart, and one ordinary one.
    ids = []
    for n, amount in enumerate((9_500, 9_800, 9_650)):
        router.pay(payee, stable, amount * 10**6, bytes([n + 1]) * 32, sender=payer)
        ids.append(int(router.paymentCount()))
    router.pay(accounts[16], ETH, 10**16, b"\x09" * 32, sender=accounts[15], value=10**16)
    ids.append(int(router.paymentCount()))
    assert wait_until(lambda: decided(router, ids), timeout=30)

    for path, title in PAGES.items():
        response = page.goto(dashboard + path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        expect(page.locator("h1")).to_have_text(title)
        expect(page.locator("nav a.active")).to_have_text(title)
        expect(page.locator(".panel.error")).to_have_count(0)

    page.goto(dashboard + "/")
    for pid in ids:
        expect(page.locator(f'#payments tr[data-payment="{pid}"]')).to_be_visible()
    # up to three reasons, each sentence once (two features can say the same thing)
    reasons = page.locator(f'#payments tr[data-payment="{ids[0]}"] td.reasons div')
    expect(reasons.first).to_be_visible()
    assert 1 <= reasons.count() <= 3
    # Below the review threshold a payment's reasons are labelled as main factors, not red flags.
    review = int(router.reviewThreshold())
    for pid in ids:
        row = page.locator(f'#payments tr[data-payment="{pid}"]')
        score = int(row.locator(".score").inner_text().replace(",", ""))
        expect(row.locator("[data-clear]")).to_have_count(1 if score < review else 0)
    # the calibrated fraud probability is shown beside the score
    expect(page.locator(f'#payments tr[data-payment="{ids[0]}"] .prob')).to_contain_text("P(fraud)")
    page.goto(dashboard + "/model")
    expect(page.locator("#model-id")).to_have_text(dash_artifact.model_id)
    expect(page.get_by_text("From 9,000 bps up")).to_be_visible()
    expect(page.get_by_text("Drift against the training reference")).to_be_visible()
    expect(page.locator(".panel.ok")).to_contain_text("approved")
    assert page.locator("#pr-curve").evaluate("img => img.complete && img.naturalWidth > 0")
    page.goto(dashboard + "/health")
    expect(page.locator('[data-kpi="backlog"]')).to_have_text("0")
    expect(page.locator('[data-kpi="checkpoint"]')).not_to_have_text("—")

    # Empty dates: the 30 days up to the chain's time (the CLI's rule), and the page says so.
    page.goto(f"{dashboard}/report?preview=1")
    expect(page.locator("#report-sources")).to_contain_text("now from chain time")
    for pid in ids[:3]:
        expect(page.locator(f'#report-rows tr[data-case="router:{pid}"]')).to_contain_text("structuring")

    # The report for the chain's day, from the dashboard's download button.
    today = datetime.fromtimestamp(chain.blocks.head.timestamp, UTC).date()
    page.goto(f"{dashboard}/report?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}&preview=1")
    for pid in ids[:3]:
        expect(page.locator(f'#report-rows tr[data-case="router:{pid}"]')).to_contain_text("structuring")
    alert = page.locator("#structuring-alerts tbody tr")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("$28,950.00")
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    structuring = [r for r in rows if "structuring" in r["flags"]]
    assert sorted(int(r["payment_id"]) for r in structuring) == ids[:3]
    first = next(r for r in structuring if int(r["payment_id"]) == ids[0])
    assert first["subject"] == str(payer) and first["counterparty"] == str(payee)
    assert (
        first["amount"] == "9500"
        and first["token"] == "mUSD"
        and first["amount_base_units"] == str(9_500 * 10**6)
    )
    assert first["request_tx"].startswith("0x") and first["verdict_tx"].startswith("0x")
    assert first["structuring_alert"].startswith("structuring:")

    with page.expect_download() as info:
        page.click("#download-json")
    report = json.loads(Path(info.value.path()).read_text())
    assert report["report"]["type"] == "suspicious-activity"
    assert {a["payment_id"] for a in report["activities"]} >= set(ids[:3])
    assert report["subjects"][0]["address"] == str(payer)
    [alert_json] = report["structuring_alerts"]
    assert (alert_json["subject"], alert_json["payment_ids"]) == (str(payer), ids[:3])

    # The command line gives the same report.
    out = tmp_path / "sar.json"
    period = ["--from", str(today - timedelta(days=1)), "--to", str(today + timedelta(days=1))]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "oracle.cli",
            "report",
            "suspicious",
            *period,
            "--format",
            "json",
            "--out",
            str(out),
        ],
        env={**os.environ, **verdict_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    from_cli = json.loads(out.read_text())
    assert from_cli["activities"] == report["activities"]


def test_reviewer_approves_a_held_payment_from_the_queue_and_it_settles_on_chain(
    dao_world, oracle_node, dashboard, page, deployer, accounts, dash_artifact
):
    contracts, _ = dao_world
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    assert oracle.isModelApproved(bytes.fromhex(dash_artifact.model_id[2:]))
    # Policy for this test: every score from 1 bps up is held for review, and only 10,000 (riskier
    # than every legitimate payment the model was calibrated on) refunded. Small first payments of
    # unknown accounts score about 9,800-9,900 on that scale: held.
    router.setThresholds(1, 10_000, sender=deployer)
    fresh, mule, other, fresh2 = accounts[15], accounts[16], accounts[17], accounts[19]
    router.pay(mule, ETH, 4 * 10**16, b"\x01" * 32, sender=fresh, value=4 * 10**16)
    approved_id = int(router.paymentCount())
    router.pay(other, ETH, 3 * 10**16, b"\x02" * 32, sender=fresh2, value=3 * 10**16)
    rejected_id = int(router.paymentCount())
    assert wait_until(lambda: decided(router, [approved_id, rejected_id]), timeout=30)
    assert status(router, approved_id) == HELD and status(router, rejected_id) == HELD
    mule_before = mule.balance
    # Another web page cannot make the reviewer key sign: no token, or a foreign Host, is refused.
    assert post_review(dashboard, approved_id, headers={}) == 403
    assert post_review(dashboard, approved_id, headers={"Host": "evil.example"}) == 400
    assert status(router, approved_id) == HELD

    page.goto(dashboard + "/review")
    expect(page.locator(".panel.ok")).to_contain_text("Reviewing as")
    row = page.locator(f'#queue tr[data-payment="{approved_id}"]')
    expect(row).to_contain_text("0.04 ETH")
    # Each held payment shows its review deadline on chain time (the verdict deadline plus the review
    # window the router applies) and the time left until it.
    review_deadline = int(router.payment(approved_id).deadline) + int(router.reviewWindow())
    deadline_cell = row.locator("td.deadline")
    expect(deadline_cell).to_have_attribute("data-deadline", str(review_deadline))
    shown = datetime.fromtimestamp(review_deadline, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    expect(deadline_cell).to_contain_text(shown)
    expect(deadline_cell.locator("[data-left]")).to_contain_text(" left")

    # The first click only asks: nothing is signed until the reviewer confirms; Cancel sends nothing.
    row.locator("button.approve").click()
    confirm = page.locator("#review-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"Approve payment {approved_id}?")
    expect(confirm).to_contain_text("0.04 ETH")
    expect(confirm).to_contain_text(str(mule))
    page.wait_for_timeout(6_000)  # past one auto-refresh: the question stays on screen
    expect(confirm).to_be_visible()
    assert status(router, approved_id) == HELD
    page.locator("#review-confirm-no").click()
    expect(confirm).to_be_hidden()
    expect(page.locator("#review-result")).to_be_hidden()
    assert status(router, approved_id) == HELD

    row.locator("button.approve").click()
    expect(page.locator("#review-confirm-yes")).to_have_text(f"Confirm: approve payment {approved_id}")
    page.locator("#review-confirm-yes").click()
    expect(page.locator("#review-status")).to_have_text("settled", timeout=30_000)
    tx_hash = page.locator("#review-tx").inner_text()
    assert tx_hash.startswith("0x") and len(tx_hash) == 66

    assert status(router, approved_id) == SETTLED
    assert mule.balance > mule_before  # paid, less the fee
    receipt = chain.provider.web3.eth.get_transaction_receipt(tx_hash)
    assert receipt["from"] == str(accounts[4]) and receipt["status"] == 1
    # The queue no longer offers it; the decided table shows the review.
    expect(page.locator(f'#queue tr[data-payment="{approved_id}"]')).to_have_count(0)
    expect(page.locator(f'#decided tr[data-payment="{approved_id}"]')).to_contain_text("approved")

    page.locator(f'#queue tr[data-payment="{rejected_id}"] button.reject').click()
    expect(confirm).to_contain_text(f"Reject payment {rejected_id}?")
    expect(confirm).to_contain_text("refunds 0.03 ETH to the payer")
    page.keyboard.press("Escape")  # Escape cancels too
    expect(confirm).to_be_hidden()
    assert status(router, rejected_id) == HELD
    page.locator(f'#queue tr[data-payment="{rejected_id}"] button.reject').click()
    page.locator("#review-confirm-yes").click()
    expect(page.locator("#review-status")).to_have_text("refunded", timeout=30_000)
    assert status(router, rejected_id) == REFUNDED
    expect(page.locator("#queue-empty")).to_be_visible()


def test_a_proposals_votes_update_on_the_governance_page(dao_world, oracle_node, dashboard, page, members):
    contracts, _ = dao_world
    governor, token, router = (
        contracts["CommunityGovernor"],
        contracts["CommunityToken"],
        contracts["PaymentRouter"],
    )
    ensure_delegated(token, members)
    advance(1)
    proposal = propose(governor, [encode_call(router, "setFeeBps", 25)], "Set the fee to 25 bps", members[0])
    advance_past(int(governor.proposalSnapshot(proposal.proposal_id)))

    page.goto(dashboard + "/governance")
    card = page.locator(f'article[data-proposal="{proposal.proposal_id}"]')
    expect(card).to_contain_text("Set the fee to 25 bps")
    expect(card.locator("[data-state]")).to_have_text("Active")
    expect(card.locator('[data-votes="for"]')).to_have_text("0")
    expect(page.locator("#treasury")).to_contain_text("VCT")

    governor.castVote(proposal.proposal_id, SUPPORT["for"], sender=members[0])
    governor.castVote(proposal.proposal_id, SUPPORT["against"], sender=members[1])
    governor.castVote(proposal.proposal_id, SUPPORT["abstain"], sender=members[2])
    # No reload: the page refreshes itself.
    share = f"{int(token.getVotes(members[0])) // 10**18:,}"
    expect(card.locator('[data-votes="for"]')).to_have_text(share, timeout=15_000)
    expect(card.locator('[data-votes="against"]')).to_have_text(share)
    expect(card.locator('[data-votes="abstain"]')).to_have_text(share)
    expect(card.locator("[data-participation]")).to_have_text(
        f"{2 * int(token.getVotes(members[0])) // 10**18:,}"
    )
    expect(card.locator('[data-unit="for"]')).to_have_text("VCT")
    expect(card.locator("[data-quadratic]")).to_have_count(0)


@pytest.mark.parametrize("dao_mode", [Dao.GOVERNS])
def test_a_quadratic_proposals_weights_show_in_root_tokens(dao_world, oracle_node, dashboard, page, members):
    """A quadratic proposal's tally is isqrt(base-unit votes) per invite tree: shown as such (√VCT),
    not divided by 10**18 as if it were tokens (which showed "For 0 Against 0" on a passing vote)."""
    contracts, _ = dao_world
    governor, token, router = (
        contracts["CommunityGovernor"],
        contracts["CommunityToken"],
        contracts["PaymentRouter"],
    )
    ensure_delegated(token, members)
    advance(1)
    calls = [encode_call(router, "setFeeBps", 25)]
    proposal = propose(governor, calls, "Set the fee to 25 bps #quadratic", members[0])
    assert governor.isQuadratic(proposal.proposal_id)
    advance_past(int(governor.proposalSnapshot(proposal.proposal_id)))
    governor.castVote(proposal.proposal_id, SUPPORT["for"], sender=members[0])
    governor.castVote(proposal.proposal_id, SUPPORT["against"], sender=members[1])
    for_weight, against_weight = (
        int(governor.proposalVotes(proposal.proposal_id)[1]),
        int(governor.proposalVotes(proposal.proposal_id)[0]),
    )
    # Each founding member is an invite tree of its own: its weight is isqrt of its votes.
    assert for_weight == math.isqrt(int(token.getVotes(members[0])))
    assert 0 < for_weight < 10**18  # what the old page divided by 10**18 and rounded to 0

    page.goto(dashboard + "/governance")
    card = page.locator(f'article[data-proposal="{proposal.proposal_id}"]')
    expect(card.locator("[data-quadratic]")).to_have_text("quadratic")
    expect(card.locator('[data-votes="for"]')).to_have_text(f"{for_weight / 10**9:,.2f}")
    expect(card.locator('[data-votes="against"]')).to_have_text(f"{against_weight / 10**9:,.2f}")
    expect(card.locator('[data-votes="abstain"]')).to_have_text("0.00")
    expect(card.locator('[data-unit="for"]')).to_have_text("√VCT")
    assert card.locator('[data-votes="for"]').inner_text() != "0"
    # The quorum counts members' raw votes, in tokens.
    expect(card.locator("[data-participation]")).to_have_text(
        f"{int(token.getVotes(members[0])) // 10**18:,}"
    )
    expect(card.locator(".quorum")).to_contain_text("VCT")
