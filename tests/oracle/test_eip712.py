"""One EIP-712 domain builder (oracle/eip712.py) for every signer: a node's quotes and locks, its
observations, a member's ballots; and the domain a node builds off-chain is the one the contract
reports (EIP-5267), so a signature made offline verifies on-chain."""

from __future__ import annotations

from ape import project
from eth_account import Account

from oracle import eip712
from oracle.fx_quotes import FxQuote, quote_digest
from oracle.network.report import Report, typed_message
from oracle.relay.signing import domain_of
from verdict_deploy.relay import web3_contract


def test_quotes_observations_and_ballots_take_their_domain_from_the_one_function(
    monkeypatch, deployer, chain
):
    risk_oracle = deployer.deploy(project.RiskOracle, deployer)
    chain_id = int(chain.chain_id)
    built: list[tuple] = []
    real = eip712.domain

    def recording(*args):
        built.append(args)
        return real(*args)

    monkeypatch.setattr(eip712, "domain", recording)
    anywhere = Account.create().address
    quote = FxQuote(1, 10**6, 9 * 10**5, 8 * 10**5, (anywhere, anywhere), 100, 400)
    quote_digest(quote, chain_id=chain_id, contract=anywhere)
    report = Report.over(b"\x01" * 32, anywhere, b"\x02" * 32, 1, [1], [(anywhere, anywhere, anywhere, 5)])
    offline = typed_message(report, [1], [b"\x03" * 32], chain_id=chain_id, oracle=str(risk_oracle.address))
    onchain = domain_of(web3_contract(risk_oracle))  # what a ballot's domain is read with

    assert [args[0] for args in built] == [
        "Verdict CrossBorderRouter",
        "Verdict RiskOracle",
        "Verdict RiskOracle",
    ]
    assert offline["domain"] == onchain
    assert offline["types"]["EIP712Domain"] == [{"name": n, "type": t} for n, t in eip712.DOMAIN_FIELDS]
