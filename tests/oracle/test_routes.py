"""The route engine (oracle/routes.py, issue 18.4) against the real local pools: Uniswap v2 deployed
from its npm bytecode, 5 currencies and WETH, 15 pools at the ECB rates of one day. Its prices are
the chain's own to the unit, and its best route is the exhaustive on-chain best."""

from __future__ import annotations

import random

import pytest

from oracle.routes import (
    GasPrice,
    Pool,
    PoolGraph,
    RouteError,
    amount_out,
    best_route,
    ranked_routes,
    read_pools,
)
from verdict_deploy.fx import deploy_fx


@pytest.fixture(scope="module")
def fx(deployer):
    return deploy_fx(deployer)


@pytest.fixture(scope="module")
def graph(fx, chain):
    return read_pools(chain.provider.web3, fx.factory.address, [t.address for t in fx.tokens.values()])


def addr(fx, code: str) -> str:
    return str(fx.tokens[code].address)


def test_the_topology_has_every_pair_pooled(fx, graph):
    assert len(fx.tokens) == 6 and len(graph.pools) == 15
    # 1 direct + 4 two-hop + 12 three-hop simple paths between any two of 6 fully pooled tokens
    paths = graph.paths(addr(fx, "USD"), addr(fx, "JPY"))
    assert len(paths) == 17 and len(set(paths)) == 17
    assert all(len(set(p)) == len(p) and len(p) <= 4 for p in paths)


def test_the_engine_prices_every_path_as_router02_does(fx, graph):
    usd, gbp = addr(fx, "USD"), addr(fx, "GBP")
    for path in graph.paths(usd, gbp):
        for amount in (10**6, 123_456 * 10**6, 3_000_000 * 10**6):
            assert graph.amounts_out(amount, path) == list(fx.router02.getAmountsOut(amount, list(path)))


def test_best_route_is_the_exhaustive_on_chain_best(fx, graph, chain):
    """15 random (pair, amount) cases here; the 100 of issue 18 run under the soak profile (each
    case prices 17 paths on chain, and ape's anvil traces every call)."""
    _check_against_exhaustive_search(fx, graph, chain, cases=15, seed=184)


@pytest.mark.soak
def test_best_route_is_the_exhaustive_on_chain_best_for_100_amounts(fx, graph, chain):
    _check_against_exhaustive_search(fx, graph, chain, cases=100, seed=1840)


def _check_against_exhaustive_search(fx, graph, chain, *, cases: int, seed: int) -> None:
    """Every path of every case is priced by Router02 on chain in one batch; the engine's pick
    must get at least 99.9% of the best of them."""
    rng = random.Random(seed)
    codes = [c for c in fx.tokens if c != "WETH"]
    w3 = chain.provider.web3
    router = w3.eth.contract(address=str(fx.router02.address), abi=[_GET_AMOUNTS_OUT])
    drawn = []
    for _ in range(cases):
        tin, tout = rng.sample(codes, 2)
        amount = int(10 ** rng.uniform(6, 12.7))  # 1 to 5,000,000 units of a 6-decimal token
        drawn.append((addr(fx, tin), addr(fx, tout), amount))
    batch_paths = [(case, path) for case in drawn for path in graph.paths(case[0], case[1])]
    with w3.batch_requests() as batch:
        for (_, _, amount), path in batch_paths:
            batch.add(router.functions.getAmountsOut(amount, list(path)))
        results = batch.execute()
    best_on_chain: dict[tuple, int] = {}
    for (case, _), amounts in zip(batch_paths, results, strict=True):
        best_on_chain[case] = max(best_on_chain.get(case, 0), amounts[-1])
    multi_hop_wins = 0
    for case in drawn:
        route = best_route(graph, *case)
        assert route.amount_out * 1000 >= best_on_chain[case] * 999
        multi_hop_wins += route.hops > 1
    assert multi_hop_wins > 0  # the topology makes routing matter: the direct pool is not always best


def test_gas_decides_between_routes_of_nearly_equal_output():
    """A direct pool against a slightly better two-hop route: at zero gas price the two-hop route
    wins; once its extra pool's gas costs more than the extra output, the direct one does."""
    a, b, c = "0xA", "0xB", "0xC"
    graph = PoolGraph.of(
        [
            Pool("0x1", a, c, 1_000_000 * 10**6, 1_000_000 * 10**6),
            Pool("0x2", a, b, 10_000_000 * 10**6, 10_050_000 * 10**6),
            Pool("0x3", b, c, 10_050_000 * 10**6, 10_080_000 * 10**6),
        ]
    )
    amount = 10_000 * 10**6
    free = best_route(graph, a, c, amount)
    assert free.path == (a, b, c)
    extra = free.amount_out - graph.amounts_out(amount, (a, c))[-1]
    dear = GasPrice(wei=10**12, out_per_eth=3_400 * 10**6)  # 1,000 gwei, ETH at 3,400 of the output
    assert dear.cost_out(60_000) > extra
    assert best_route(graph, a, c, amount, gas=dear).path == (a, c)
    assert [r.path for r in ranked_routes(graph, a, c, amount)][:2] == [(a, b, c), (a, c)]


def test_no_route_is_an_error_not_a_zero_quote():
    graph = PoolGraph.of(
        [Pool("0x1", "0xA", "0xB", 10**12, 10**12), Pool("0x2", "0xC", "0xD", 10**12, 10**12)]
    )
    with pytest.raises(RouteError):
        best_route(graph, "0xA", "0xD", 10**6)
    with pytest.raises(RouteError):
        best_route(graph, "0xA", "0xA", 10**6)
    assert amount_out(10**6, 0, 10**12) == 0 and amount_out(0, 10**12, 10**12) == 0


_GET_AMOUNTS_OUT = {
    "name": "getAmountsOut",
    "type": "function",
    "stateMutability": "view",
    "inputs": [{"name": "amountIn", "type": "uint256"}, {"name": "path", "type": "address[]"}],
    "outputs": [{"name": "amounts", "type": "uint256[]"}],
}
