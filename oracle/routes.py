"""The route engine of cross-border payments (issue 18.4): every path of up to three hops across the
Uniswap v2 pairs and the v3 pools of every fee tier between listed tokens (a hop is a pool: the v2
pair, fee code 0, or the v3 pool of fee 500, 3000 or 10000), the best output after gas chosen. v2
hops are priced with the pairs' own constant-product formula, v3 hops by QuoterV2 itself (an
eth_call at the same block, memoised per hop and amount), so the quote is what the chain would give
at that block; the settlement swaps with the quote's minimum out, and the node re-quotes (a newer
quote replaces the old) whenever it must.

    graph = read_pools(w3, factory, tokens, v3_factory=..., quoter=...)
    route = best_route(graph, usd, eur, 1_000 * 10**6, gas=GasPrice(wei=10**9, out_per_eth=...))
    route.path, route.fees, route.amount_out, route.net_out
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product

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
GAS_PER_V3_HOP = 100_000  # a v3 pool swap (tick math, callback) costs more than a v2 pair's
V2 = 0  # the fee code of a v2 hop; a v3 hop's code is its fee tier
V3_FEE_TIERS = (500, 3000, 10000)

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


V3_FACTORY_ABI = [
    {
        "name": "getPool",
        "type": "function",
        "stateMutability": "view",
        "inputs": [
            {"name": "a", "type": "address"},
            {"name": "b", "type": "address"},
            {"name": "fee", "type": "uint24"},
        ],
        "outputs": [{"name": "pool", "type": "address"}],
    }
]
QUOTER_V2_ABI = [
    {
        "name": "quoteExactInputSingle",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [
            {
                "name": "params",
                "type": "tuple",
                "components": [
                    {"name": "tokenIn", "type": "address"},
                    {"name": "tokenOut", "type": "address"},
                    {"name": "amountIn", "type": "uint256"},
                    {"name": "fee", "type": "uint24"},
                    {"name": "sqrtPriceLimitX96", "type": "uint160"},
                ],
            }
        ],
        "outputs": [
            {"name": "amountOut", "type": "uint256"},
            {"name": "sqrtPriceX96After", "type": "uint160"},
            {"name": "initializedTicksCrossed", "type": "uint32"},
            {"name": "gasEstimate", "type": "uint256"},
        ],
    }
]
# (token in, token out, fee, amount in) -> amount out of one v3 pool
V3Quote = Callable[[str, str, int, int], int]


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
    """Pools by token pair: at most one v2 pair, and the fee tiers of the v3 pools, per pair. A v3
    hop is priced by `v3_quote` (QuoterV2 at the graph's block), memoised in `_v3_memo`."""

    pools: Mapping[frozenset[str], Pool]
    v3_fees: Mapping[frozenset[str], tuple[int, ...]] = field(default_factory=dict)
    v3_quote: V3Quote | None = None
    _v3_memo: dict[tuple[str, str, int, int], int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        pools: Iterable[Pool],
        v3_fees: Mapping[frozenset[str], tuple[int, ...]] | None = None,
        v3_quote: V3Quote | None = None,
    ) -> PoolGraph:
        return cls({frozenset((p.token0, p.token1)): p for p in pools}, dict(v3_fees or {}), v3_quote)

    @property
    def pool_count(self) -> int:
        return len(self.pools) + sum(len(fees) for fees in self.v3_fees.values())

    def neighbours(self, token: str) -> Iterator[str]:
        for pair in self.pools.keys() | self.v3_fees.keys():
            if token in pair:
                yield next(iter(pair - {token}))

    def hops(self, a: str, b: str) -> tuple[int, ...]:
        """The pools between `a` and `b`: V2 (0) for the pair, then each v3 fee tier."""
        key = frozenset((a, b))
        return ((V2,) if key in self.pools else ()) + tuple(self.v3_fees.get(key, ()))

    def edge_routes(
        self, token_in: str, token_out: str, max_hops: int = MAX_HOPS
    ) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
        """Every (path, fees) of 1 to `max_hops` hops: each simple token path with each choice of
        pool per hop."""
        found = []
        for path in self.paths(token_in, token_out, max_hops):
            choices = [self.hops(a, b) for a, b in zip(path, path[1:], strict=False)]
            found.extend((path, fees) for fees in product(*choices))
        return found

    def hop_out(self, amount_in: int, a: str, b: str, fee: int) -> int:
        """What one hop gives for `amount_in` of `a`: the v2 formula, or QuoterV2 (memoised)."""
        if amount_in <= 0:
            return 0
        if fee == V2:
            reserve_in, reserve_out = self.pool(a, b).reserves(a)
            return amount_out(amount_in, reserve_in, reserve_out)
        if self.v3_quote is None:
            raise RouteError("a v3 hop needs a quoter")
        key = (a, b, fee, amount_in)
        if key not in self._v3_memo:
            self._v3_memo[key] = self.v3_quote(a, b, fee, amount_in)
        return self._v3_memo[key]

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

    def amounts_out(self, amount_in: int, path: Sequence[str], fees: Sequence[int] = ()) -> list[int]:
        """What each hop of `path` gives (UniswapV2Library.getAmountsOut for an all-v2 route):
        `fees[i]` picks hop i's pool, v2 when `fees` is empty."""
        fees = tuple(fees) or (V2,) * (len(path) - 1)
        amounts = [amount_in]
        for a, b, fee in zip(path, path[1:], fees, strict=False):
            amounts.append(self.hop_out(amounts[-1], a, b, fee))
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
    fees: tuple[int, ...] = ()  # each hop's pool: V2 (0) or the v3 fee tier; () = all v2

    @property
    def hops(self) -> int:
        return len(self.path) - 1

    @property
    def hop_fees(self) -> tuple[int, ...]:
        return self.fees or (V2,) * self.hops


def route_gas(hops: int | Sequence[int]) -> int:
    """The gas of a route of `hops` v2 hops, or of the hops whose fee codes are given."""
    if isinstance(hops, int):
        return BASE_GAS + GAS_PER_HOP * hops
    return BASE_GAS + sum(GAS_PER_HOP if fee == V2 else GAS_PER_V3_HOP for fee in hops)


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
    for path, fees in graph.edge_routes(token_in, token_out, max_hops):
        out = graph.amounts_out(amount_in, path, fees)[-1]
        if out <= 0:
            continue
        used = route_gas(fees)
        routes.append(Route(path, amount_in, out, used, out - gas.cost_out(used), fees))
    routes.sort(key=lambda r: (-r.net_out, r.hops, r.path, r.fees))
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


def read_pools(
    w3: Web3,
    factory: str,
    tokens: Iterable[str],
    *,
    block: int | str = "latest",
    v3_factory: str | None = None,
    quoter: str | None = None,
    fee_tiers: Sequence[int] = V3_FEE_TIERS,
) -> PoolGraph:
    """The v2 pools between every pair of `tokens` that has one, with their reserves at `block`;
    given Uniswap v3's factory and QuoterV2, also the v3 pools of `fee_tiers`, priced by the
    quoter at `block`."""
    if isinstance(block, str):
        block = int(w3.eth.get_block(block)["number"])
    v3_fees: dict[frozenset[str], tuple[int, ...]] = {}
    v3_quote = None
    if v3_factory is not None and quoter is not None:
        v3 = w3.eth.contract(address=to_checksum_address(v3_factory), abi=V3_FACTORY_ABI)
        for a, b in combinations(sorted({to_checksum_address(t) for t in tokens}), 2):
            fees = tuple(
                fee
                for fee in fee_tiers
                if int(v3.functions.getPool(a, b, fee).call(block_identifier=block), 16) != 0
            )
            if fees:
                v3_fees[frozenset((a, b))] = fees
        quoter_contract = w3.eth.contract(address=to_checksum_address(quoter), abi=QUOTER_V2_ABI)

        def v3_quote(token_in: str, token_out: str, fee: int, amount: int) -> int:
            try:
                result = quoter_contract.functions.quoteExactInputSingle(
                    (token_in, token_out, amount, fee, 0)
                ).call(block_identifier=block)
            except Exception:  # noqa: BLE001 (a pool that cannot fill the amount quotes nothing)
                return 0
            return int(result[0])

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
    return PoolGraph.of(pools, v3_fees, v3_quote)
