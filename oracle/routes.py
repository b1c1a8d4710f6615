"""The route engine of cross-border payments (issue 18.4): every path of up to three hops across the
Uniswap v2 pools between listed tokens, priced with the pools' own constant-product formula, the best
output after gas chosen. It reads reserves at one block, so the quote it gives is what the chain would
give at that block; the settlement swaps with the quote's minimum out, and the node re-quotes (a
newer quote replaces the old) whenever it must.

    graph = read_pools(w3, factory, tokens)
    route = best_route(graph, usd, eur, 1_000 * 10**6, gas=GasPrice(wei=10**9, out_per_eth=...))
    route.path, route.amount_out, route.net_out
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from eth_utils import to_checksum_address
from web3 import Web3

MAX_HOPS = 3
# Uniswap v2's fee: 0.3%, as UniswapV2Library.getAmountOut applies it (997/1000).
FEE_NUMERATOR = 997
FEE_DENOMINATOR = 1000
# Gas of a swap through CrossBorderRouter: a fixed part (the verdict's settlement, the push) and
# one pool per hop (measured on anvil: tests/contracts/crossborder/test_cross_border_gas.py).
BASE_GAS = 120_000
GAS_PER_HOP = 60_000

FACTORY_ABI = [
    {
        "name": "getPair",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}, {"name": "b", "type": "address"}],
        "outputs": [{"name": "pair", "type": "address"}],
    }
]
PAIR_ABI = [
    {
        "name": "getReserves",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [
            {"name": "reserve0", "type": "uint112"},
            {"name": "reserve1", "type": "uint112"},
            {"name": "blockTimestampLast", "type": "uint32"},
        ],
    },
    {
        "name": "token0",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "address"}],
    },
]
ZERO_ADDRESS = "0x" + "00" * 20


class RouteError(ValueError):
    """No route: the tokens are not connected within MAX_HOPS, or every route gives nothing."""


@dataclass(frozen=True)
class Pool:
    """One v2 pair: its address and reserves, with `token0` < `token1` as the pair orders them."""

    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int

    def reserves(self, token_in: str) -> tuple[int, int]:
        """(reserve of `token_in`, reserve of the other token)."""
        if token_in == self.token0:
            return self.reserve0, self.reserve1
        return self.reserve1, self.reserve0

    def other(self, token: str) -> str:
        return self.token1 if token == self.token0 else self.token0


def amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, integer for integer (0 for an empty pool or amount)."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    with_fee = amount_in * FEE_NUMERATOR
    return (with_fee * reserve_out) // (reserve_in * FEE_DENOMINATOR + with_fee)


@dataclass(frozen=True)
class PoolGraph:
    """Pools by token pair; at most one v2 pool per pair."""

    pools: Mapping[frozenset[str], Pool]

    @classmethod
    def of(cls, pools: Iterable[Pool]) -> PoolGraph:
        return cls({frozenset((p.token0, p.token1)): p for p in pools})

    def neighbours(self, token: str) -> Iterator[str]:
        for pair in self.pools:
            if token in pair:
                yield next(iter(pair - {token}))

    def pool(self, a: str, b: str) -> Pool:
        return self.pools[frozenset((a, b))]

    def paths(self, token_in: str, token_out: str, max_hops: int = MAX_HOPS) -> list[tuple[str, ...]]:
        """Every simple path from `token_in` to `token_out` of 1 to `max_hops` pools."""
        found: list[tuple[str, ...]] = []

        def walk(path: tuple[str, ...]) -> None:
            if path[-1] == token_out:
                found.append(path)
                return
            if len(path) > max_hops:
                return
            for nxt in sorted(self.neighbours(path[-1])):
                if nxt not in path:
                    walk((*path, nxt))

        walk((token_in,))
        return found

    def amounts_out(self, amount_in: int, path: Sequence[str]) -> list[int]:
        """UniswapV2Library.getAmountsOut over `path` at these reserves."""
        amounts = [amount_in]
        for a, b in zip(path, path[1:], strict=False):
            reserve_in, reserve_out = self.pool(a, b).reserves(a)
            amounts.append(amount_out(amounts[-1], reserve_in, reserve_out))
        return amounts


@dataclass(frozen=True)
class GasPrice:
    """What gas costs in the output token: `wei` per gas, `out_per_eth` output units per 1 ETH
    (10**18 wei). Zero gas price (a local chain) ranks routes by output alone."""

    wei: int = 0
    out_per_eth: int = 0

    def cost_out(self, gas: int) -> int:
        return gas * self.wei * self.out_per_eth // 10**18


@dataclass(frozen=True)
class Route:
    path: tuple[str, ...]
    amount_in: int
    amount_out: int
    gas: int
    net_out: int  # amount_out less the gas, in output units

    @property
    def hops(self) -> int:
        return len(self.path) - 1


def route_gas(hops: int) -> int:
    return BASE_GAS + GAS_PER_HOP * hops


def ranked_routes(
    graph: PoolGraph,
    token_in: str,
    token_out: str,
    amount_in: int,
    *,
    gas: GasPrice | None = None,
    max_hops: int = MAX_HOPS,
) -> list[Route]:
    """Every route with a positive output, best net output first (fewer hops first on a tie)."""
    gas = gas or GasPrice()
    routes = []
    for path in graph.paths(token_in, token_out, max_hops):
        out = graph.amounts_out(amount_in, path)[-1]
        if out <= 0:
            continue
        used = route_gas(len(path) - 1)
        routes.append(Route(path, amount_in, out, used, out - gas.cost_out(used)))
    routes.sort(key=lambda r: (-r.net_out, r.hops, r.path))
    return routes


def best_route(
    graph: PoolGraph,
    token_in: str,
    token_out: str,
    amount_in: int,
    *,
    gas: GasPrice | None = None,
    max_hops: int = MAX_HOPS,
) -> Route:
    """The route with the best output after gas; RouteError when there is none."""
    if token_in == token_out:
        raise RouteError("the input and output tokens are the same")
    routes = ranked_routes(graph, token_in, token_out, amount_in, gas=gas, max_hops=max_hops)
    if not routes:
        raise RouteError(f"no route from {token_in} to {token_out} within {max_hops} hops")
    return routes[0]


def read_pools(w3: Web3, factory: str, tokens: Iterable[str], *, block: int | str = "latest") -> PoolGraph:
    """The v2 pools between every pair of `tokens` that has one, with their reserves at `block`."""
    factory_contract = w3.eth.contract(address=to_checksum_address(factory), abi=FACTORY_ABI)
    pools = []
    for a, b in combinations(sorted({to_checksum_address(t) for t in tokens}), 2):
        address = factory_contract.functions.getPair(a, b).call(block_identifier=block)
        if int(address, 16) == 0:
            continue
        pair = w3.eth.contract(address=address, abi=PAIR_ABI)
        reserve0, reserve1, _ = pair.functions.getReserves().call(block_identifier=block)
        token0 = to_checksum_address(pair.functions.token0().call(block_identifier=block))
        token1 = b if token0 == a else a
        pools.append(Pool(to_checksum_address(address), token0, token1, int(reserve0), int(reserve1)))
    return PoolGraph.of(pools)
