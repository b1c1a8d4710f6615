"""The demo's arbitrageur (issue 18.8): after the ECB rates move the feeds, it trades every Uniswap pool
of the demo's FX world (the v2 pairs and the full-range v3 pools) whose mid price is more than
`threshold_bps` off the feeds' cross rate, by the amount that brings the mid back to the feeds. On a
real chain arbitrageurs keep pools near the reference price; without one the pools stay at the
seeding day's rates and the nodes soon decline to quote (a fill off the feeds' band).

    arb = Arbitrageur(w3, sender, account, fx, abis)
    arb.fund()
    trades = arb.rebalance(prices)      # prices: each code's USD price, as the feeds now answer
    arb.gaps(prices)                    # pool -> bps of its mid off the feeds, after the trades

v2: the amount in solves (x + f·a)(x + a) = x·y/p (x, y: the reserves of the token sold and
bought, p: the feeds' price of the sold token in the bought one, f = 0.997), so the reserves after
the swap are at the feeds' price. v3 (full range, so the liquidity L is constant): an exact-input
swap through SwapRouter with the feeds' sqrtPriceX96 as its price limit, so the pool stops there;
its amount in is L·(1/√p' − 1/√p) or L·(√p' − √p), grossed up for the fee tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from math import sqrt
from typing import Any

from eth_account.signers.local import LocalAccount

from oracle.routes import FEE_DENOMINATOR, FEE_NUMERATOR, V2
from oracle.traffic import Sender, call_tx
from verdict_deploy.fx import TOKEN_DECIMALS, WETH, FxWorld

BPS = 10_000
Q96 = 2**96
THRESHOLD_BPS = 10  # a pool closer than this to the feeds is left alone (a trade costs gas)
STOCK_UNITS = 50_000_000  # of each currency token: many times the largest trade the demo needs
STOCK_WETH = 2_000 * 10**18
MAX_UINT = 2**256 - 1


def abi_of(contract: Any) -> list[dict[str, Any]]:
    """The ABI of an ape ContractInstance, for a web3 contract."""
    return [
        item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in contract.contract_type.abi
    ]


@dataclass(frozen=True)
class PoolRef:
    """One pool the arbitrageur watches: token0 and token1 by currency code, fee V2 for a pair."""

    name: str  # "v2 EUR/USD", "v3 EUR/USD 0.05%"
    contract: Any  # web3 contract
    code0: str
    code1: str
    fee: int


@dataclass
class Arbitrageur:
    """Keeps the pools of `fx` at the feeds' prices with `account`'s trades (sent by `sender`)."""

    w3: Any
    sender: Sender
    account: LocalAccount
    fx: FxWorld
    abis: Mapping[str, list[dict[str, Any]]]
    threshold_bps: int = THRESHOLD_BPS
    pools: list[PoolRef] = field(default_factory=list)

    def __post_init__(self) -> None:
        eth = self.w3.eth
        self._router02 = eth.contract(str(self.fx.router02.address), abi=abi_of(self.fx.router02))
        v3 = self.fx.v3
        self._swap_router = (
            None if v3 is None else eth.contract(str(v3.swap_router.address), abi=abi_of(v3.swap_router))
        )
        found = [(f"v2 {'/'.join(sorted(k))}", pair, V2) for k, pair in self.fx.pairs.items()]
        if v3 is not None:
            found += [
                (f"v3 {'/'.join(sorted(k))} {fee / 10_000:g}%", pool, fee)
                for (k, fee), pool in v3.pools.items()
            ]
        for name, instance, fee in found:
            contract = eth.contract(str(instance.address), abi=abi_of(instance))
            code0 = self.fx.code_of(contract.functions.token0().call())
            code1 = self.fx.code_of(contract.functions.token1().call())
            self.pools.append(PoolRef(name, contract, code0, code1, fee))

    def _token(self, code: str) -> Any:
        abi = abi_of(self.fx.weth) if code == WETH else self.abis["MockStablecoin"]
        return self.w3.eth.contract(str(self.fx.tokens[code].address), abi=abi)

    def fund(self) -> None:
        """Gives the arbitrageur ETH, a stock of every token (minted, as the deploy's minter does;
        WETH deposited) and unlimited allowances on both routers. Local chains only."""
        self.w3.provider.make_request("anvil_setBalance", [self.account.address, hex(10 * STOCK_WETH)])
        calls = []
        for code in self.fx.tokens:
            token = self._token(code)
            if code == WETH:
                calls.append(call_tx(token.functions.deposit(), gas=100_000, value=STOCK_WETH))
            else:
                calls.append(
                    call_tx(token.functions.mint(self.account.address, STOCK_UNITS * 10**6), gas=120_000)
                )
            for spender in (r.address for r in (self._router02, self._swap_router) if r is not None):
                calls.append(call_tx(token.functions.approve(spender, MAX_UINT), gas=80_000))
        self._send_all(calls)

    def gaps(self, prices: Mapping[str, Decimal]) -> dict[str, float]:
        """Each pool's mid price off the feeds' cross rate, in bps (positive: token0 dear)."""
        return {p.name: (self._mid(p) / _rate(p, prices) - 1) * BPS for p in self.pools}

    def rebalance(self, prices: Mapping[str, Decimal]) -> int:
        """Trades every pool more than the threshold off `prices` back to them; the trade count."""
        deadline = int(self.w3.eth.get_block("latest")["timestamp"]) + 3600
        calls = []
        for pool, gap in zip(self.pools, self.gaps(prices).values(), strict=True):
            if abs(gap) > self.threshold_bps:
                calls.append(self._trade(pool, _rate(pool, prices), deadline))
        self._send_all(calls)
        return len(calls)

    def _mid(self, pool: PoolRef) -> float:
        """token1 per token0, in base units: the v2 reserves' ratio, the v3 pool's price."""
        if pool.fee == V2:
            reserve0, reserve1, _ = pool.contract.functions.getReserves().call()
            return reserve1 / reserve0
        sqrt_price = int(pool.contract.functions.slot0().call()[0])
        return (sqrt_price / Q96) ** 2

    def _trade(self, pool: PoolRef, rate: float, deadline: int) -> dict[str, Any]:
        sell0 = self._mid(pool) > rate  # token0 is dear in the pool: sell it
        code_in, code_out = (pool.code0, pool.code1) if sell0 else (pool.code1, pool.code0)
        token_in, token_out = str(self.fx.tokens[code_in].address), str(self.fx.tokens[code_out].address)
        if pool.fee == V2:
            reserve0, reserve1, _ = pool.contract.functions.getReserves().call()
            x, y, p = (reserve0, reserve1, rate) if sell0 else (reserve1, reserve0, 1 / rate)
            f = FEE_NUMERATOR / FEE_DENOMINATOR
            b = (1 + f) * x
            amount = int((-b + sqrt(b * b - 4 * f * (x * x - x * y / p))) / (2 * f))
            call = self._router02.functions.swapExactTokensForTokens(
                amount, 0, [token_in, token_out], self.account.address, deadline
            )
            return call_tx(call, gas=200_000)
        liquidity = int(pool.contract.functions.liquidity().call())
        now = int(pool.contract.functions.slot0().call()[0])
        with localcontext() as ctx:
            ctx.prec = 60
            target = int(Decimal(rate).sqrt() * Q96)
        if (
            sell0
        ):  # the price falls from `now` to `target`: amount0 = L * Q96 * (now - target) / (now * target)
            net = liquidity * Q96 * (now - target) // (now * target)
        else:  # it rises: amount1 = L * (target - now) / Q96
            net = liquidity * (target - now) // Q96
        gross = net * 1_000_000 // (1_000_000 - pool.fee) * 101 // 100 + 1  # the limit stops it at target
        params = (token_in, token_out, pool.fee, self.account.address, deadline, gross, 0, target)
        assert self._swap_router is not None  # a v3 pool is only watched when fx has v3
        return call_tx(self._swap_router.functions.exactInputSingle(params), gas=300_000)

    def _send_all(self, txs: list[dict[str, Any]]) -> None:
        hashes = [self.sender.send(self.account, tx) for tx in txs]
        for h in hashes:
            receipt = self.sender.wait(h)
            if int(receipt["status"]) != 1:
                raise RuntimeError(f"arbitrageur transaction {h} reverted")


def _rate(pool: PoolRef, prices: Mapping[str, Decimal]) -> float:
    """The feeds' price of token0 in token1, in base units (WETH has 18 decimals, the rest 6)."""
    decimals = {code: 18 if code == WETH else TOKEN_DECIMALS for code in (pool.code0, pool.code1)}
    scale = Decimal(10) ** (decimals[pool.code1] - decimals[pool.code0])
    return float(Decimal(prices[pool.code0]) / Decimal(prices[pool.code1]) * scale)
