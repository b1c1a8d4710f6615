"""`ChainClient.known_tx` on a real anvil: what the outbox asks before sending a long-unmined verdict
batch again. A transaction waiting in the pool and a mined one are known (with their nonce and gas
limit); a hash the node never received is not."""

from __future__ import annotations

from pathlib import Path

from web3 import Web3

from bench.anvil import Anvil
from oracle.chain import ChainClient, Deployment, load_abis

CONTRACTS = {"RiskOracle": "0x" + "22" * 20, "PaymentRouter": "0x" + "11" * 20}


def test_the_node_says_which_transactions_it_holds(manifest: Path):
    with Anvil(block_time=3600.0) as anvil:  # nothing is mined unless the test asks
        w3 = Web3(Web3.HTTPProvider(anvil.url))
        client = ChainClient(
            anvil.url, Deployment("local", w3.eth.chain_id, 0, CONTRACTS), load_abis(manifest)
        )
        payer, payee = w3.eth.accounts[:2]
        tx_hash = Web3.to_hex(
            w3.eth.send_transaction({"from": payer, "to": payee, "value": 1, "gas": 30_000})
        )

        waiting = client.known_tx(tx_hash)  # in the pool
        assert waiting is not None and (waiting.tx_hash, waiting.nonce, waiting.gas) == (tx_hash, 0, 30_000)
        assert client.receipt(tx_hash) is None
        assert client.known_tx("0x" + "ee" * 32) is None  # never sent

        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        assert client.receipt(tx_hash) is not None
        assert client.known_tx(tx_hash) == waiting  # mined: still known, the receipt settles it
