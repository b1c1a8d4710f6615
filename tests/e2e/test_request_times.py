"""A payment's time, which the features depend on, is its block's timestamp however the client
learns it: from the logs (anvil and recent geth include it) or by asking for the block."""

from __future__ import annotations

from ape import chain, networks

from oracle.chain import ChainClient, Deployment, load_abis
from verdict_deploy import MANIFEST

ETH = "0x0000000000000000000000000000000000000000"


def test_request_times_are_the_block_timestamps(world, client, payer, payee):
    contracts, deployment = world
    router = contracts["PaymentRouter"]
    first = chain.blocks.height + 1
    for gap in (7, 3_600, 86_400):  # uneven jumps, so no timestamp can be guessed from another
        chain.pending_timestamp += gap
        router.pay(payee, ETH, 10**15, b"\x03" * 32, sender=payer, value=10**15)

    requests = client.gate_requests(first, chain.blocks.height)
    fresh = ChainClient(networks.provider.uri, Deployment.load(deployment), load_abis(MANIFEST))

    assert len(requests) == 3
    for request in requests:
        expected = chain.blocks[request.block_number].timestamp
        assert client.block_timestamp(request.block_number) == expected  # learnt from the logs
        assert fresh.block_timestamp(request.block_number) == expected  # asked of the node
