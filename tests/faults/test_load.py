"""A sustained burst of payments through the whole path (payMany from several payers, one real
`verdict run` process, the RiskOracle, the router) with nothing lost: every payment gets exactly
one final verdict and one outcome event. The daemon's resident memory is read from
/proc/<pid>/status (VmRSS now, VmHWM the peak) and printed.

Two sizes of the one test: `make test` runs a burst of 1,000 payments (verdict batches of up to 250,
ten payMany of 100 from four payers); the soak variant (`@pytest.mark.soak`, run by
`make test-soak`) the full 5,000 (about a minute on a quiet machine). `VERDICT_LOAD_PAYMENTS` sets
the soak variant's size, e.g. a longer soak:

    VERDICT_LOAD_PAYMENTS=20000 .venv/bin/ape test tests/faults/test_load.py -m soak -s
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from ape import chain
from fault_helpers import ETH, wait_until
from web3 import Web3

from oracle.chain import ChainClient

SHORT = 1000  # make test
SOAK = int(os.environ.get("VERDICT_LOAD_PAYMENTS", "5000"))  # make test-soak
PER_TX = 100  # payments per payMany transaction


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def count_logs(client: ChainClient, contract, event: str, from_block: int) -> dict[int, int]:
    """Id (first indexed topic after the event's own for the router, the target's id for the oracle)
    -> number of logs."""
    topic = Web3.to_hex(ChainClient.topic(contract, event))
    logs = client.w3.eth.get_logs(
        {"fromBlock": from_block, "toBlock": "latest", "address": contract.address, "topics": [topic]}
    )
    counts: dict[int, int] = {}
    for log in logs:
        index = 2 if event.startswith("Verdict") else 1  # Verdict*(target, id, ...)
        pid = int.from_bytes(bytes(log["topics"][index]), "big")
        counts[pid] = counts.get(pid, 0) + 1
    return counts


@pytest.mark.parametrize(
    "payments", [pytest.param(SHORT, id="short"), pytest.param(SOAK, id="soak", marks=pytest.mark.soak)]
)
def test_a_burst_of_payments_is_decided_completely_and_exactly_once(
    payments, world, client, start_daemon, accounts, capsys
):
    contracts, _ = world
    router = contracts["PaymentRouter"]
    start_block = chain.blocks.height
    daemon = start_daemon(verdict_batch_size="250")
    pid = daemon.proc.pid
    idle = memory_kib(pid)

    payers = accounts[10:14]
    payees = accounts[14:20]
    sent = 0
    started = time.monotonic()
    while sent < payments:
        n = min(PER_TX, payments - sent)
        payer = payers[(sent // PER_TX) % len(payers)]
        amounts = [10**12 * (1 + (sent + i) % 97) for i in range(n)]
        router.payMany(
            [payees[(sent + i) % len(payees)] for i in range(n)],
            ETH,
            amounts,
            [(sent + i).to_bytes(32, "big") for i in range(n)],
            sender=payer,
            value=sum(amounts),
        )
        sent += n
    ids = set(range(1, payments + 1))
    assert router.paymentCount() == payments

    peak = idle

    def all_final() -> bool:
        nonlocal peak
        if daemon.running:
            now = memory_kib(pid)
            peak = {k: max(v, now[k]) for k, v in peak.items()}
        # quorum 1: the node's VerdictPosted is the final verdict (no VerdictFinalized follows it)
        return len(count_logs(client, client.oracle, "VerdictPosted", start_block)) >= payments

    assert wait_until(all_final, timeout=120 + payments * 0.2), "payments left without a final verdict"
    elapsed = time.monotonic() - started
    finals = count_logs(client, client.oracle, "VerdictPosted", start_block)
    assert finals == {i: 1 for i in ids}
    outcomes: dict[int, int] = {}
    for event in ("PaymentSettled", "PaymentHeld", "PaymentRefunded"):
        for payment_id, count in count_logs(client, client.router, event, start_block).items():
            outcomes[payment_id] = outcomes.get(payment_id, 0) + count
    assert outcomes == {i: 1 for i in ids}  # one outcome each: nothing lost, nothing decided twice
    assert daemon.running
    end = memory_kib(pid)
    with capsys.disabled():
        print(
            f"\nload: {payments} payments decided in {elapsed:.0f}s; daemon memory: "
            f"idle VmRSS {idle['VmRSS'] / 1024:.0f} MiB, after VmRSS {end['VmRSS'] / 1024:.0f} MiB, "
            f"peak VmHWM {end['VmHWM'] / 1024:.0f} MiB"
        )
