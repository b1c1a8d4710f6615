"""Deploys "the world" every entry point starts from: the one deploy path of scripts, console, tests, bench.

    world = deploy_world(Roles.local(), models=[artifact.model_id], thresholds=thresholds_of(artifact),
                         escrow=True, dao=Dao.GOVERNS)
    world.router, world.contracts, world.deployment, world.governance.review_band

In order: the suite (RiskOracle, PaymentRouter, MockStablecoin on a local chain), MockUSDC, the
Escrow, the model's genesis thresholds, the DAO (taking the policy contracts over or not), and the
deployment record (`deployments/<network>.json`: chain binding, role holders, addresses, ABI
files). The DAO comes last because once the timelock holds the admin roles the deployer can
configure nothing; the rest keeps the order (and so the addresses) the demo has always had.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ape import accounts, chain, networks, project
from ape.contracts import ContractInstance

from verdict_deploy.escrow import deploy_escrow
from verdict_deploy.fx import DEFAULT_CURRENCIES, RATE_DAY, FxWorld, deploy_fx
from verdict_deploy.governance import GovernanceConfig, deploy_governance
from verdict_deploy.relay import RelayConfig, deploy_vote_relay
from verdict_deploy.suite import deploy_suite, is_local_network, list_token, write_deployment

# The compiled contracts' ABIs, which `verdict run` and `verdict dashboard` read.
MANIFEST = Path(__file__).resolve().parents[1] / ".build" / "__local__.json"


class Dao(Enum):
    """Whether the community DAO is deployed, and whether it takes the policy contracts over."""

    NONE = "none"  # no DAO: the deployer administers everything (e2e tests, bench)
    BESIDE = "beside"  # the DAO is deployed but the deployer keeps the policy contracts (dashboard tests)
    GOVERNS = "governs"  # the timelock administers router, oracle and escrow; the deployer keeps no role


@dataclass(frozen=True)
class Roles:
    """Who holds which role. `treasury` None means the deployer; `quorum` is the oracle's k."""

    deployer: Any
    treasury: Any = None
    nodes: Sequence[Any] = ()
    quorum: int = 1
    reviewers: Sequence[Any] = ()
    guardian: Any = None
    arbiters: Sequence[Any] = ()  # escrow arbiters (used only with escrow=True)
    members: Sequence[Any] = ()  # founding DAO members, who share the airdrop
    founders: Sequence[Any] = ()  # each gets a VestingGrant
    buyer: Any = None  # the escrow scenario's buyer (demo, `ape run escrow`)
    supplier: Any = None  # ... and its supplier
    outsider: Any = None  # holds no role at all: what tests use to prove a role is required
    relayer: Any = None  # submits members' signed votes through the DAO's VoteRelay (with a DAO only)

    @classmethod
    def local(cls, **overrides: Any) -> Roles:
        """The local chain's test accounts in the roles `ape run deploy`, the demo and the tests give them
        (0 deploys, 3 is the node, 13 the arbiter, 7-10 the members, 19 the outsider...); `overrides`
        replace any. Accounts 1 and 2 (the tests' payer and payee) and 16-18 hold no role either."""
        test = accounts.test_accounts
        roles: dict[str, Any] = {
            "deployer": test[0],
            "treasury": test[6],
            "nodes": (test[3],),
            "reviewers": (test[4],),
            "guardian": test[5],
            "arbiters": (test[13],),
            "members": tuple(test[i] for i in (7, 8, 9, 10)),
            "founders": (test[11], test[12]),
            "buyer": test[14],
            "supplier": test[15],
            "outsider": test[19],
            # The treasury's account: inert once the DAO takes the fees (16-18 are the demo's extra nodes).
            "relayer": test[6],
        }
        roles.update(overrides)
        return cls(**roles)

    def holders(self, *, escrow: bool, dao: bool) -> dict[str, Any]:
        """Role -> address (or list of addresses) of the roles a deployment gives out, as the record
        and `ape run deploy` show them: arbiters only with an escrow, members and founders only with
        a DAO. The scenario's buyer, supplier and outsider hold no role and are left out."""
        def one(account: Any) -> str | None:  # an account, or an address given on the command line
            return None if account is None else str(getattr(account, "address", account))

        def many(group: Sequence[Any]) -> list[str]:
            return [str(getattr(a, "address", a)) for a in group]

        holders: dict[str, Any] = {
            "deployer": one(self.deployer),
            "treasury": one(self.treasury or self.deployer),
            "nodes": many(self.nodes),
            "quorum": self.quorum,
            "reviewers": many(self.reviewers),
            "guardian": one(self.guardian),
        }
        if escrow:
            holders["arbiters"] = many(self.arbiters)
        if dao:
            holders["members"] = many(self.members)
            holders["founders"] = many(self.founders)
            if self.relayer is not None:
                holders["relayer"] = one(self.relayer)
        return holders

    @property
    def node(self) -> Any:
        return self.nodes[0]

    @property
    def reviewer(self) -> Any:
        return self.reviewers[0]


@dataclass(frozen=True)
class World:
    """What `deploy_world` deployed: the contracts by name (as `write_deployment` records them)."""

    contracts: dict[str, ContractInstance]
    roles: Roles
    start_block: int  # the first block of the deployment: where event readers start
    deployment: Path  # the deployment record
    governance: GovernanceConfig | None = None  # the DAO's parameters, if deployed
    fx: FxWorld | None = None  # cross-border payments (`deploy_world(fx=True)`)

    @property
    def router(self) -> ContractInstance:
        return self.contracts["PaymentRouter"]

    @property
    def oracle(self) -> ContractInstance:
        return self.contracts["RiskOracle"]

    @property
    def stablecoin(self) -> ContractInstance:
        return self.contracts["MockStablecoin"]

    @property
    def escrow(self) -> ContractInstance:
        return self.contracts["Escrow"]

    @property
    def addresses(self) -> dict[str, str]:
        return {name: str(contract.address) for name, contract in self.contracts.items()}


def model_id_bytes(model_id: str | bytes) -> bytes:
    """A model id as the contracts take it: 32 raw bytes (from the artifact's 0x-hex string)."""
    return model_id if isinstance(model_id, bytes) else bytes.fromhex(model_id.removeprefix("0x"))


def thresholds_of(artifact: Any) -> tuple[int, int]:
    """The (review, reject) thresholds in bps that a trained model proposes as the genesis policy."""
    return int(artifact.review_threshold_bps), int(artifact.reject_threshold_bps)


def governance_config(thresholds: tuple[int, int] | None = None) -> GovernanceConfig:
    """Short periods on a local chain, live ones elsewhere; routine bands centred on `thresholds`."""
    config = GovernanceConfig.local() if is_local_network() else GovernanceConfig()
    return config if thresholds is None else config.with_bands_around(*thresholds)


def deploy_world(
    roles: Roles,
    *,
    models: Iterable[str | bytes] = (),
    thresholds: tuple[int, int] | None = None,
    escrow: bool = False,
    dao: Dao = Dao.NONE,
    governance: GovernanceConfig | None = None,
    usdc: bool = False,
    with_stablecoin: bool | None = None,
    network: str = "local",
    root: Path | None = None,
    record: Path | None = None,
    relay: RelayConfig | None = None,
    fx: bool = False,
    fx_currencies: Sequence[str] = DEFAULT_CURRENCIES,
) -> World:
    """Deploys and wires the suite and, as asked, the escrow and the DAO; records the addresses.

    - `models`: approved model ids; `thresholds`: the genesis (review, reject) policy in bps, which
      also centres the DAO's routine bands (unless `governance` is given).
    - `escrow`: deploy the milestone Escrow (arbiters, reviewers, guardian from `roles`).
    - `dao`: see `Dao`. With GOVERNS every policy contract deployed here goes to the timelock.
    - `usdc`: a second mock token, MockUSDC (the demo pays in two stablecoins).
    - `with_stablecoin`: MockStablecoin; by default on local networks only (see `deploy_suite`).
    - `network`, `root`: where the record goes: `deployments/<network>.json` under `root` (default:
      the project); `record`: this path instead (the demo keeps its own, never the long-lived
      chain's `deployments/local.json`).
    - `relay`: the VoteRelay's parameters (deployed with a DAO when `roles.relayer` is set; funded
      with `relay.budget` on a local chain).
    - `fx`: cross-border payments (issue 18, `verdict_deploy.fx`): Uniswap v2, a token and a USD
      price feed per currency, seeded pools, and the CrossBorderRouter as one more RiskOracle target
      (nodes may update the feeds; reviewers and guardian as on the router). The record gains the
      contracts and its optional `fx` section. Local networks only (mock currencies);
      `fx_currencies` names them (USD among them; WETH is always added).
    """
    deployer = roles.deployer
    start_block = chain.blocks.height + 1
    contracts: dict[str, ContractInstance] = deploy_suite(
        deployer,
        treasury=roles.treasury,
        nodes=roles.nodes,
        quorum=roles.quorum,
        reviewers=roles.reviewers,
        guardian=roles.guardian,
        models=[model_id_bytes(m) for m in models],
        with_stablecoin=with_stablecoin,
    )
    router, oracle = contracts["PaymentRouter"], contracts["RiskOracle"]
    if usdc:
        contracts["MockUSDC"] = deployer.deploy(project.MockUSDC)
        list_token(router, contracts["MockUSDC"], deployer)
    if escrow:
        contracts["Escrow"] = deploy_escrow(
            deployer,
            router,
            oracle,
            arbiters=roles.arbiters,
            reviewers=roles.reviewers,
            guardian=roles.guardian,
        )
    fx_world = None
    if fx:
        fx_world = deploy_fx(
            deployer,
            oracle=oracle,
            policy=router,
            nodes=roles.nodes,
            reviewers=roles.reviewers,
            guardian=roles.guardian,
            treasury=roles.treasury,
            currencies=fx_currencies,
        )
        contracts.update(fx_world.contracts)
    if thresholds is not None:
        router.setThresholds(*thresholds, sender=deployer)
    config = None
    if dao is not Dao.NONE:
        config = governance or governance_config(thresholds)
        governed_names = ("PaymentRouter", "RiskOracle", "Escrow", "CrossBorderRouter")
        policy = [contracts[name] for name in governed_names if name in contracts]
        contracts.update(
            deploy_governance(
                deployer,
                policy_contracts=policy if dao is Dao.GOVERNS else [],
                guardian=roles.guardian,
                founders=roles.founders,
                members=roles.members,
                config=config,
            )
        )
        if roles.relayer is not None:
            contracts["VoteRelay"] = deploy_vote_relay(
                deployer,
                governor=contracts["CommunityGovernor"],
                token=contracts["CommunityToken"],
                timelock=contracts["CommunityTimelock"],
                relayer=roles.relayer,
                config=relay or RelayConfig(),
                fund=is_local_network(),
            )
    holders = roles.holders(escrow=escrow, dao=dao is not Dao.NONE)
    # Who administers the policy contracts: the timelock once the DAO governs them.
    governed = dao is Dao.GOVERNS
    holders["admin"] = str(contracts["CommunityTimelock"].address) if governed else holders["deployer"]
    deployment = write_deployment(
        network,
        contracts,
        start_block,
        root,
        roles=holders,
        path=record,
        sections={"fx": fx_record(fx_world)} if fx_world is not None else None,
    )
    return World(contracts, roles, start_block, deployment, config, fx_world)


def fx_record(fx: FxWorld) -> dict[str, Any]:
    """The record's optional `fx` section: the ECB day the pools and feeds were seeded at (the node's
    rate source defaults to it) and, per currency, the names of its token and feed in `contracts`
    and its seed price in USD."""
    return {
        "rate_day": RATE_DAY.isoformat(),
        "currencies": {
            code: {"token": f"Fx{code}", "feed": f"FxFeed{code}", "usd_price": str(fx.usd_prices[code])}
            for code in fx.tokens
        },
    }


def verdict_settings(deployment: Path, *, store_url: str, model_dir: Path, **settings: str) -> dict[str, str]:
    """The VERDICT_* settings of a `verdict run` or `verdict dashboard` process against `deployment`
    on the connected chain; each of `settings` adds one more (poll_interval="0.01" sets
    VERDICT_POLL_INTERVAL)."""
    return {
        "VERDICT_RPC_URL": networks.provider.uri,
        "VERDICT_DEPLOYMENT": str(deployment),
        "VERDICT_BUILD_MANIFEST": str(MANIFEST),
        "VERDICT_STORE_URL": store_url,
        "VERDICT_MODEL_DIR": str(model_dir),
        **{f"VERDICT_{name.upper()}": value for name, value in settings.items()},
    }
