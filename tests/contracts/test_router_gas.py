"""Gas of the payment path, printed as a table (run with `-s` to see it).

Payees already hold ETH and tokens, as a real merchant would, so that no number includes the
one-off cost of creating an account or a first token balance. Each bound below is a regression
guard with some headroom, not a target.
"""

from __future__ import annotations

import pytest
from router_helpers import ETH, REF, SAFE_SCORE, USD, submit, verdict

BATCH = 50


@pytest.fixture(scope="module", autouse=True)
def world(roles, risk_oracle, router, stablecoin):
    """Deploys everything module-scoped before any test snapshot."""


@pytest.fixture(scope="module")
def merchants(deployer, stablecoin, world):
    """BATCH distinct payees that already hold a little ETH and some stablecoin."""
    addresses = [f"0x{0xBEEF0000 + i:040x}" for i in range(BATCH)]
    for address in addresses:
        deployer.transfer(address, 1)
        stablecoin.mint(address, 1, sender=deployer)
    return addresses


def _batch_gas(risk_oracle, router, ids, sender) -> int:
    batch = [verdict(router, i, SAFE_SCORE) for i in ids]
    return submit(risk_oracle, batch, sender=sender).gas_used


def test_gas_of_pay_and_settlement(
    router, risk_oracle, stablecoin, payer, payee, node, extra_nodes, deployer, merchants
):
    rows: list[tuple[str, int]] = []
    amount = 100 * USD

    # the baseline: a plain ERC-20 transfer to an address that already holds the token
    stablecoin.mint(payee, 1, sender=deployer)
    transfer = stablecoin.transfer(payee, amount, sender=payer).gas_used
    rows.append(("plain ERC-20 transfer to a holder (baseline)", transfer))
    fresh = stablecoin.transfer("0x000000000000000000000000000000000000dEaD", amount, sender=payer).gas_used
    rows.append(("plain ERC-20 transfer to a new holder", fresh))

    # warm the id counter and register the token, as on a live router
    router.pay(payee, ETH, 1, REF, sender=payer, value=1)
    first_token_pay = router.pay(payee, stablecoin, amount, REF, sender=payer).gas_used
    pay_eth = router.pay(payee, ETH, 10**18, REF, sender=payer, value=10**18).gas_used
    pay_token = router.pay(payee, stablecoin, amount, REF, sender=payer).gas_used
    rows.append(("pay, ETH", pay_eth))
    rows.append(("pay, ERC-20", pay_token))
    rows.append(("pay, ERC-20, first use of the token", first_token_pay))

    # one payment settled by a batch of one (what a lone verdict costs, 21k base included)
    single_eth = _batch_gas(risk_oracle, router, [3], node)
    single_token = _batch_gas(risk_oracle, router, [4], node)
    rows.append(("settle 1 (batch of 1), ETH", single_eth))
    rows.append(("settle 1 (batch of 1), ERC-20", single_token))

    # batches of BATCH settlements to distinct merchants
    first = router.paymentCount() + 1
    router.payMany(merchants, ETH, [10**15] * BATCH, [REF] * BATCH, sender=payer, value=10**15 * BATCH)
    pay_many = router.payMany(merchants, stablecoin, [amount] * BATCH, [REF] * BATCH, sender=payer).gas_used
    per_pay_many = pay_many // BATCH
    rows.append((f"payMany of {BATCH}, ERC-20, per payment", per_pay_many))
    eth_ids = list(range(first, first + BATCH))
    token_ids = list(range(first + BATCH, first + 2 * BATCH))
    batch_eth = _batch_gas(risk_oracle, router, eth_ids, node)
    batch_token = _batch_gas(risk_oracle, router, token_ids, node)
    per_item_eth = batch_eth // BATCH
    per_item_token = batch_token // BATCH
    rows.append((f"verdict batch of {BATCH}, per item, ETH", per_item_eth))
    rows.append((f"verdict batch of {BATCH}, per item, ERC-20", per_item_token))

    # quorum 3: each node's batch, per item (the third vote finalizes and settles)
    for extra in extra_nodes:
        risk_oracle.addNode(extra, sender=deployer)
    risk_oracle.setQuorum(3, sender=deployer)
    first = router.paymentCount() + 1
    router.payMany(merchants, stablecoin, [amount] * BATCH, [REF] * BATCH, sender=payer)
    quorum_ids = list(range(first, first + BATCH))
    quorum_votes = [_batch_gas(risk_oracle, router, quorum_ids, n) // BATCH for n in risk_oracle.nodes()]
    rows.append((f"quorum 3, vote 1 of 3, per item (batch of {BATCH})", quorum_votes[0]))
    rows.append((f"quorum 3, vote 3 of 3 + settle, per item (batch of {BATCH})", quorum_votes[2]))

    pay_to_settle_eth = pay_eth + per_item_eth
    pay_to_settle_token = pay_token + per_item_token
    rows.append(("pay -> settlement, ETH (pay + batch share)", pay_to_settle_eth))
    rows.append(("pay -> settlement, ERC-20 (pay + batch share)", pay_to_settle_token))
    rows.append(("payMany -> settlement, ERC-20, per payment", per_pay_many + per_item_token))

    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'operation':<{width}}  {'gas':>9}")
    print(f"{'-' * width}  {'-' * 9}")
    for label, gas in rows:
        print(f"{label:<{width}}  {gas:>9,}")
    print(
        "ERC-20 pay -> settlement / plain transfer to a holder: "
        f"{pay_to_settle_token / transfer:.2f} (to a new holder: {pay_to_settle_token / fresh:.2f}); "
        f"payMany -> settlement / plain transfer: {(per_pay_many + per_item_token) / transfer:.2f}"
    )

    assert [router.payment(i).status for i in (*eth_ids[:1], *token_ids[-1:], *quorum_ids[:1])] == [3, 3, 3]
    assert pay_eth < 100_000
    assert pay_token < 120_000
    assert per_item_eth < 40_000
    assert per_item_token < 40_000
