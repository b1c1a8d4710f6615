"""Gas figures for `make bench`, all measured on the bench's own chain in the same run.

Payment path: payments sent the way wallets send them (oracle.traffic), verdicts posted by the
node's own ChainClient in one `submitVerdicts` batch of the daemon's batch size, each payment to a
payee that never held the asset (the same condition as the ERC-20 baseline, a transfer to a new
holder). Governance and escrow through ape, on a suite deployed here for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ape import accounts, chain
from eth_utils import keccak
from web3 import Web3

from oracle.chain import ETH, ChainClient, Terms, VerdictItem
from oracle.network.report import Report, ordered, sign_observation
from oracle.relay.signing import ballot_calldata
from oracle.traffic import ERC20_ABI, Sender, call_tx, fund, pay_tx, payment_id_from_receipt, wallets
from oracle.verdict_codec import NO_TERMS
from verdict_deploy import Dao, Roles, deploy_world
from verdict_deploy.governance import SUPPORT, advance, advance_past, encode_call
from verdict_deploy.relay import dao_contracts

REASONS_HASH = "0x" + "11" * 32
TRANSFER_ABI = {
    "name": "transfer",
    "type": "function",
    "stateMutability": "nonpayable",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"type": "bool"}],
}


def payment_gas(
    client: ChainClient, node_client: ChainClient, token: str, model_id: str, batch: int
) -> dict[str, Any]:
    """Gas from pay() through settlement, per payment, for ETH and the stablecoin; and the baseline.

    `node_client` signs as the oracle node (the daemon must be stopped: it would post these too)."""
    w3 = client.w3
    sender = Sender(w3, client.chain_id())
    payer = wallets(1, seed="verdict-bench-gas:payer")[0]
    fund(client, [payer], eth_wei=10**24, token=token, token_units=10**15, sender=sender)
    fresh = iter(wallets(3 * batch + 2, seed="verdict-bench-gas:payee"))

    stablecoin = w3.eth.contract(Web3.to_checksum_address(token), abi=[*ERC20_ABI, TRANSFER_ABI])
    baseline = sender.wait(
        sender.send(payer, call_tx(stablecoin.functions.transfer(next(fresh).address, 10**6), gas=100_000))
    )

    out: dict[str, Any] = {"erc20_transfer_to_new_holder": int(baseline["gasUsed"]), "verdict_batch": batch}
    for symbol, address, amount in (("eth", ETH, 10**15), ("erc20", token, 25 * 10**6)):
        hashes = [
            sender.send(
                payer, pay_tx(client, next(fresh).address, address, amount, keccak(text=f"gas:{symbol}:{i}"))
            )
            for i in range(batch)
        ]
        receipts = [sender.wait(h) for h in hashes]
        pay_gas = [int(r["gasUsed"]) for r in receipts]
        ids = [payment_id_from_receipt(client, r) for r in receipts]
        terms = client.payment_terms(ids)  # the router keeps only their hash: the verdict carries them
        items = [
            VerdictItem(client.router.address, pid, 0, model_id, REASONS_HASH, terms[pid]) for pid in ids
        ]
        receipt = node_client.wait_receipt(node_client.submit_verdicts(items))
        assert receipt is not None and int(receipt["status"]) == 1, "verdict batch failed"
        settled = node_client.batch_outcome(receipt).finals
        assert sum(1 for v in settled.values() if v == "settled") == batch, "not every payment settled"
        pay_avg = sum(pay_gas) / len(pay_gas)
        share = int(receipt["gasUsed"]) / batch
        out[f"pay_{symbol}"] = round(pay_avg)
        out[f"verdict_batch_{symbol}"] = int(receipt["gasUsed"])
        out[f"verdict_share_{symbol}"] = round(share)
        out[f"payment_{symbol}_pay_to_settlement"] = round(pay_avg + share)
    out["ratio_erc20_payment_to_transfer"] = round(
        out["payment_erc20_pay_to_settlement"] / out["erc20_transfer_to_new_holder"], 2
    )
    return out


def governance_and_escrow_gas(model_id: str, work: Path) -> dict[str, Any]:
    """castVote (simple and quadratic) and one escrow milestone release, on a world of their own (its
    deployment record under `work`): the treasury is the deployer and there are no founders."""
    roles = Roles.local(treasury=None, founders=())
    world = deploy_world(
        roles, models=[model_id], escrow=True, dao=Dao.GOVERNS, with_stablecoin=True, root=work
    )
    router, oracle, stablecoin, escrow = world.router, world.oracle, world.stablecoin, world.escrow
    node, members = roles.node, roles.members
    buyer, supplier = roles.buyer, roles.supplier

    # One milestone: the supplier asks, the buyer confirms, the node's verdict releases it.
    amount = 1_000 * 10**6
    stablecoin.mint(buyer, amount, sender=buyer)
    stablecoin.approve(escrow, amount, sender=buyer)
    due = chain.pending_timestamp + 7 * 86_400
    agreement = int(escrow.createAgreement(supplier, stablecoin, [amount], [due], sender=buyer).return_value)
    request = escrow.requestRelease(agreement, 0, sender=supplier)
    confirm = escrow.confirmRelease(agreement, 0, sender=buyer)
    gate = int(confirm.return_value)
    verdict = oracle.submitVerdicts(
        [
            (
                escrow.address,
                bytes.fromhex(model_id[2:]),
                [(gate, 0, bytes.fromhex(REASONS_HASH[2:]), NO_TERMS)],
            )
        ],
        sender=node,
    )
    released = int(stablecoin.balanceOf(supplier)) > 0
    escrow_gas = {
        "request_release": int(request.gas_used),
        "confirm_release": int(confirm.gas_used),
        "verdict_batch_of_1": int(verdict.gas_used),
        "milestone_release_total": int(request.gas_used + confirm.gas_used + verdict.gas_used),
        "released": released,
    }

    # Governance over the same suite: a simple and a quadratic proposal, one vote on each.
    governor, token = world.contracts["CommunityGovernor"], world.contracts["CommunityToken"]
    for member in members:
        token.invoke_transaction("delegate", member, sender=member)
    advance(1)
    calls = [encode_call(router, "setFeeBps", 10)]
    targets, values, datas = (list(x) for x in zip(*calls, strict=True))
    simple = governor.propose(targets, values, datas, "bench: fee to 10 bps", sender=members[0])
    quad = governor.propose(targets, values, datas, "bench: fee to 10 bps #quadratic", sender=members[0])
    pid = simple.events.filter(governor.ProposalCreated)[0].proposalId
    qid = quad.events.filter(governor.ProposalCreated)[0].proposalId
    advance_past(int(governor.proposalSnapshot(qid)))
    vote_simple = governor.castVote(pid, SUPPORT["for"], sender=members[1])
    vote_quad = governor.castVote(qid, SUPPORT["for"], sender=members[1])
    # Two more members vote by signature, relayed in one VoteRelay batch (issue 19): gas a vote, the
    # whole relay transaction (reimbursement included) over two, next to castVote above.
    signer = dao_contracts(world.contracts)
    ballots = [ballot_calldata(signer, m.private_key, pid, SUPPORT["for"]) for m in members[2:4]]
    relayed = world.contracts["VoteRelay"].relay(ballots, sender=roles.relayer)
    return {
        "escrow": escrow_gas,
        "cast_vote_simple": int(vote_simple.gas_used),
        "cast_vote_quadratic": int(vote_quad.gas_used),
        "cast_vote_relayed_per_vote_batch_of_2": int(relayed.gas_used) // len(ballots),
    }


def network_gas(model_id: str, work: Path, batch: int = 10) -> dict[str, Any]:
    """Issue 17: one batch of router payments to merchants settled by one signed report of a 4-node
    network (the threshold's 3 signatures, one transmitter) against another batch settled by three
    node transactions (quorum 3), whole transactions, per verdict; on a world of its own (record under
    `work`), the nodes being test accounts 3 and 16-18 as in the demo's network."""
    test = accounts.test_accounts
    roles = Roles.local(nodes=(test[3], test[16], test[17], test[18]), quorum=3, treasury=None, founders=())
    world = deploy_world(roles, models=[model_id], with_stablecoin=True, root=work)
    router, oracle, stablecoin = world.router, world.oracle, world.stablecoin
    payer, nodes = roles.members[0], roles.nodes
    model = bytes.fromhex(model_id.removeprefix("0x"))
    reasons = bytes.fromhex(REASONS_HASH[2:])
    amount = 25 * 10**6
    stablecoin.mint(payer, 2 * batch * amount, sender=payer)
    stablecoin.approve(router, 2 * batch * amount, sender=payer)
    # Merchants that already hold the token (the common case for a payee; the ERC-20 ratio above
    # is the one measured against new holders): both sides then pay the same settlement transfer.
    payees = [w.address for w in wallets(batch, seed="verdict-bench-gas:network-merchant")]
    for payee in payees:
        stablecoin.mint(payee, 1, sender=payer)

    def pay_batch() -> list[int]:
        first = int(router.paymentCount()) + 1
        refs = [keccak(text=f"gas:network:{first + i}") for i in range(batch)]
        router.payMany(payees, stablecoin, [amount] * batch, refs, sender=payer)
        return list(range(first, first + batch))

    def terms_of(ids: list[int]) -> list[Terms]:
        # the router keeps only a hash of each payment's terms: they come from its PaymentRequested
        return [Terms(payer.address, p, stablecoin.address, amount) for p in payees[: len(ids)]]

    ids = pay_batch()
    group = (router.address, model, [(pid, 0, reasons, t) for pid, t in zip(ids, terms_of(ids), strict=True)])
    three = sum(int(oracle.submitVerdicts([group], sender=n).gas_used) for n in nodes[:3])

    ids = pay_batch()
    report = Report.over(bytes(oracle.configDigest()), router.address, model, 1, ids, terms_of(ids))
    domain = {"chain_id": chain.chain_id, "oracle": oracle.address}
    observations = [
        sign_observation(n.private_key, report, [0] * batch, [reasons] * batch, **domain) for n in nodes[:3]
    ]
    sent = oracle.transmit(*report.transmit_args(ordered(observations)), sender=nodes[0])
    settled = len(router.PaymentSettled.from_receipt(sent))
    assert settled == batch, f"the signed report settled {settled} of {batch} payments"
    per_report, per_three = int(sent.gas_used) / batch, three / batch
    return {
        "network_transmit_per_verdict_4_nodes_3_signatures": round(per_report),
        "network_three_submissions_per_verdict": round(per_three),
        "ratio_network_report_to_three_submissions": round(per_report / per_three, 2),
    }


# Issue 18: each route of a cross-border pay-to-settle, as (currency codes, pool per hop: 0 the v2
# pair, else the v3 fee tier); the plain Uniswap swaps of the same amount are measured next to them.
CROSS_BORDER_ROUTES = {
    "1_hop_v2": (("USD", "EUR"), (0,)),
    "1_hop_v3": (("USD", "EUR"), (500,)),
    "2_hops_v2": (("USD", "GBP", "EUR"), (0, 0)),
    "2_hops_v3_v2": (("USD", "GBP", "EUR"), (500, 0)),
}


def cross_border_gas(model_id: str, work: Path) -> dict[str, Any]:
    """Issue 18: a cross-border pay-to-settle (pay, the node's quote, the settling verdict with its
    swap) on each of CROSS_BORDER_ROUTES against a plain Uniswap swap of the same amount, on a world
    and FX deploy of their own (record under `work`)."""
    from verdict_deploy.fx import deploy_fx

    roles = Roles.local(treasury=None, founders=())
    world = deploy_world(roles, models=[model_id], root=work)
    fx = deploy_fx(
        roles.deployer,
        oracle=world.oracle,
        policy=world.router,
        nodes=[roles.node],
        currencies=("USD", "EUR", "GBP"),
    )
    return measure_cross_border_gas(
        fx,
        world.oracle,
        roles.node,
        roles.members[0],
        roles.members[1],
        bytes.fromhex(model_id.removeprefix("0x")),
    )


def measure_cross_border_gas(
    fx: Any, oracle: Any, node: Any, payer: Any, payee: Any, model_id: bytes, amount: int = 1_000 * 10**6
) -> dict[str, Any]:
    """Gas of each step of a cross-border payment of `amount` USD (6 decimals) to EUR over `fx`'s
    CrossBorderRouter, per route, and of the bare Router02 / SwapRouter swaps of the same amount.
    Every recipient already holds the tokens it receives, so no figure pays for a new balance slot."""
    from oracle.fx_quotes import quote_from_route, sign_quote
    from oracle.routes import Route, read_pools

    cross, tokens, v3 = fx.cross_border, fx.tokens, fx.v3
    usd = tokens["USD"]
    runs = len(CROSS_BORDER_ROUTES) + 3
    usd.mint(payer, runs * amount, sender=payer)
    for token in (usd, tokens["EUR"], tokens["GBP"]):
        for holder in (payer, payee, cross):
            token.mint(holder, 1, sender=payer)
    usd.approve(cross, runs * amount, sender=payer)
    graph = read_pools(
        chain.provider.web3,
        fx.factory.address,
        [t.address for t in tokens.values()],
        v3_factory=v3.factory.address,
        quoter=v3.quoter.address,
    )
    out: dict[str, Any] = {}
    for label, (codes, fees) in CROSS_BORDER_ROUTES.items():
        path = tuple(str(tokens[c].address) for c in codes)
        paid = cross.pay(payee, usd, tokens[codes[-1]], amount, sender=payer)
        pid = int(cross.paymentCount())
        quoted_out = graph.amounts_out(amount, path, fees)[-1]
        route = Route(path, amount, quoted_out, 0, quoted_out, fees)
        quote = quote_from_route(
            route, payment_id=pid, slippage_bps=50, issued_at=chain.pending_timestamp, ttl=600
        )
        signature = sign_quote(quote, node.private_key, chain_id=chain.chain_id, contract=str(cross.address))
        quoted = cross.submitQuote(quote.as_tuple(), signature, sender=node)
        settled = oracle.submitVerdicts(
            [(cross.address, model_id, [(pid, 0, bytes.fromhex(REASONS_HASH[2:]), NO_TERMS)])], sender=node
        )
        assert int(cross.payment(pid).status) == 3, f"the {label} cross-border payment did not settle"
        out[f"cross_border_{label}_pay"] = int(paid.gas_used)
        out[f"cross_border_{label}_quote"] = int(quoted.gas_used)
        out[f"cross_border_{label}_verdict"] = int(settled.gas_used)
        out[f"cross_border_{label}_pay_to_settle"] = int(paid.gas_used + quoted.gas_used + settled.gas_used)

    deadline = chain.pending_timestamp + 600
    usd.approve(fx.router02, 2 * amount, sender=payer)
    usd.approve(v3.swap_router, amount, sender=payer)
    eur, gbp = tokens["EUR"], tokens["GBP"]
    v2_one = fx.router02.swapExactTokensForTokens(amount, 0, [usd, eur], payer, deadline, sender=payer)
    v2_two = fx.router02.swapExactTokensForTokens(amount, 0, [usd, gbp, eur], payer, deadline, sender=payer)
    v3_one = v3.swap_router.exactInputSingle(
        (usd.address, eur.address, 500, payer.address, deadline, amount, 0, 0), sender=payer
    )
    out["uniswap_v2_swap_1_hop"] = int(v2_one.gas_used)
    out["uniswap_v2_swap_2_hops"] = int(v2_two.gas_used)
    out["uniswap_v3_swap_1_hop"] = int(v3_one.gas_used)
    out["ratio_cross_border_1_hop_v3_to_uniswap_v3_swap"] = round(
        out["cross_border_1_hop_v3_pay_to_settle"] / out["uniswap_v3_swap_1_hop"], 2
    )
    return out
