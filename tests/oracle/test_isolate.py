"""The split-and-park rule in isolation: every item ends sent or parked, and failures stay local."""

from __future__ import annotations

import math

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples

from oracle.isolate import Probe, RevertDecoder, isolate

CAP = 1_000


def chain_like_probe(bad: set[int], gas_of: dict[int, int], calls: list[list[int]]):
    """Fails a batch with any bad item (as an estimate reverts), else answers its summed gas."""

    def probe(group):
        calls.append(list(group))
        hostile = [i for i in group if i in bad]
        if hostile:
            return Probe(None, f"Hostile({hostile[0]})" if len(group) == 1 else "execution reverted")
        return Probe(sum(gas_of[i] for i in group))

    return probe


@settings(max_examples=examples(300), deadline=None)  # 75 in make test, 300 in make test-soak
@given(
    n=st.integers(min_value=1, max_value=300),
    data=st.data(),
)
def test_every_item_is_sent_once_or_parked_and_batches_fit_the_cap(n, data):
    items = list(range(n))
    bad = set(data.draw(st.lists(st.sampled_from(items), max_size=8)))
    gas_of = {i: data.draw(st.integers(min_value=1, max_value=CAP + 50)) for i in items}
    calls: list[list[int]] = []
    result = isolate(items, chain_like_probe(bad, gas_of, calls), CAP)

    sent = [i for batch, _ in result.batches for i in batch]
    parked = [i for i, _ in result.parked]
    assert sorted(sent + parked) == items  # each exactly once
    assert sent == sorted(sent)  # order kept, so the outbox posts oldest first
    assert set(parked) == bad | {i for i in items if gas_of[i] > CAP}
    for batch, gas in result.batches:
        assert gas == sum(gas_of[i] for i in batch) <= CAP
    for item, reason in result.parked:
        if item in bad:
            assert reason == f"Hostile({item})"  # the decoded reason of the item alone
        else:
            assert "more than the cap" in reason


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=2, max_value=1_000), data=st.data())
def test_probes_grow_with_the_failing_items_not_with_the_batch(n, data):
    items = list(range(n))
    bad = set(data.draw(st.lists(st.sampled_from(items), min_size=1, max_size=4)))
    calls: list[list[int]] = []
    result = isolate(items, chain_like_probe(bad, dict.fromkeys(items, 1), calls), gas_cap=10**9)
    assert result.probes == len(calls) <= 1 + 2 * len(bad) * (math.ceil(math.log2(n)) + 1)
    assert {i for i, _ in result.parked} == bad


def test_a_batch_that_passes_costs_one_probe():
    calls: list[list[int]] = []
    result = isolate(list(range(200)), chain_like_probe(set(), dict.fromkeys(range(200), 3), calls), CAP)
    assert result.probes == 1 and result.batches == [(list(range(200)), 600)] and not result.parked


def test_a_batch_too_heavy_for_the_cap_is_split_not_parked():
    # 240 payouts of a token that burns 150,000 gas each pass a 30M block together, not in halves.
    items = list(range(240))
    calls: list[list[int]] = []
    result = isolate(items, chain_like_probe(set(), dict.fromkeys(items, 150_000), calls), 30_000_000)
    assert not result.parked
    assert all(gas <= 30_000_000 for _, gas in result.batches)
    assert sum(len(b) for b, _ in result.batches) == 240


def test_nothing_to_isolate():
    result = isolate([], lambda group: Probe(0), CAP)
    assert result.probes == 0 and not result.batches and not result.parked


ORACLE_ABI = [
    {"type": "error", "name": "RiskOracleUnknownTarget", "inputs": [{"name": "target", "type": "address"}]},
    {
        "type": "error",
        "name": "RiskOracleModelNotApproved",
        "inputs": [{"name": "modelId", "type": "bytes32"}],
    },
]


def _error_data(signature: str, types: list[str], values: list) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(types, values)).hex()


def test_revert_reasons_are_named_from_the_contracts_abis():
    decoder = RevertDecoder({"RiskOracle": ORACLE_ABI})
    target = "0x" + "ab" * 20
    data = _error_data("RiskOracleUnknownTarget(address)", ["address"], [target])
    assert decoder.decode(data) == f"RiskOracleUnknownTarget({target})"
    assert decoder.from_rpc_error({"code": 3, "message": "execution reverted", "data": data}).startswith(
        "RiskOracleUnknownTarget("
    )
    assert decoder.from_rpc_error({"message": "x", "data": {"data": data}}).startswith(
        "RiskOracleUnknownTarget("
    )


def test_revert_reasons_for_strings_panics_and_unknown_errors():
    decoder = RevertDecoder({})
    assert decoder.decode(_error_data("Error(string)", ["string"], ["no"])) == "no"
    assert (
        decoder.decode(_error_data("Panic(uint256)", ["uint256"], [0x11]))
        == "Panic(0x11: arithmetic overflow)"
    )
    assert decoder.decode("0xdeadbeef") == "reverted with unknown error 0xdeadbeef"
    assert decoder.decode("0x") == "reverted without a reason"
    assert decoder.from_rpc_error({"message": "out of gas"}) == "out of gas"
