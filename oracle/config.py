"""One settings object for every command and the daemon, read from `VERDICT_*` variables."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "VERDICT_"


class Settings(BaseSettings):
    """Verdict's configuration. Every field can be set as `VERDICT_<NAME>` (or in a `.env` file)."""

    # Attribute docstrings become field descriptions: `verdict <command> --help` lists them.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", use_attribute_docstrings=True
    )

    # --- chain -----------------------------------------------------------------------------
    rpc_url: str = "http://127.0.0.1:8545"
    """JSON-RPC URL of the chain node (http:// or https://)."""
    deployment: Path = Path("deployments/local.json")
    """Written by `ape run deploy`: contract name -> address, plus the deployment block."""
    build_manifest: Path = Path(".build/__local__.json")
    """ape's compiled project manifest; the ABIs are read from it."""

    # --- node identity: the key is never printed or logged -----------------------------------
    node_key: SecretStr | None = None
    """Hex private key of this oracle node (or use `keystore` + `keystore_password`)."""
    keystore: Path | None = None
    """An encrypted keystore file holding the node key (instead of `node_key`)."""
    keystore_password: SecretStr | None = None
    """The keystore's password. Never logged."""

    # --- storage -----------------------------------------------------------------------------
    store_url: str = "sqlite:///var/verdict.sqlite"
    """SQLAlchemy URL: SQLite by default, `postgresql+psycopg://...` for PostgreSQL."""
    store_rebind: bool = False
    """Bind the store to this deployment record even though another deployment made it (`verdict run
    --rebind-store`): its payments, verdicts and checkpoints then mix two deployments'."""
    store_cache_mb: int = Field(8, ge=2, le=4096)
    """SQLite page cache of `verdict run`'s store connection, in MB: room for a scoring batch's
    changed pages, which SQLite's default 2 MB could not hold. More helps a store much larger than
    the host's free memory; grown only as pages are read; no effect on PostgreSQL."""

    # --- model -------------------------------------------------------------------------------
    model_dir: Path = Path("var/model")
    """The model artifact directory the daemon scores with."""
    shadow_model_dir: Path | None = None
    """A challenger model scored beside the approved one on every payment, off the verdict path
    (`verdict run --shadow DIR`); its would-be decisions go to the store for `verdict compare`."""

    # --- daemon ------------------------------------------------------------------------------
    poll_interval: float = Field(0.05, gt=0)
    """Seconds between `eth_getLogs` polls when idle."""
    log_batch_blocks: int = Field(2000, gt=0)
    """Largest block range asked of `eth_getLogs` at once."""
    verdict_batch_size: int = Field(100, gt=0, le=500)
    """Most verdicts sent in one `submitVerdicts` transaction."""
    verdict_batch_max: int = Field(200, gt=0, le=500)
    """Most verdicts in one transaction while the backlog is larger than a batch (fewer txs)."""
    verdict_gas_cap: int = Field(15_000_000, ge=500_000)
    """Most gas one verdict transaction may need (and at most half the block gas limit): a batch
    estimated above it, or refused by the node, is split until its parts fit (split and park)."""
    turn_budget: float = Field(0.05, gt=0)
    """Seconds of scoring one turn of the daemon's loop aims at: it takes as many requests as its
    recent cost per request fits in (at least MIN_TURN_REQUESTS), so a turn stays well under a
    block time and receipts and later blocks are not kept waiting behind a large one (issue 16)."""
    turn_budget_behind: float = Field(0.1, gt=0)
    """`turn_budget` while the node is behind the chain (requests fetched and not taken yet, or
    blocks past the checkpoint not read yet): each turn has fixed round trips to the node (head,
    logs, the verdict send, receipts), which under a burst were most of its wall time at 60-85
    requests a turn; larger turns there drain the backlog sooner, in fewer and larger verdict
    transactions. Those payments already wait a block or more; once caught up, `turn_budget`.
    Measured on the bench's burst (0.1 s blocks): 1,766-1,813 decided/s at 0.05 (off), 2,061-2,188
    at 0.1, 0.15 and 0.25 alike; the busy-turn p99 rises from about 180 to 225-260 ms."""
    confirmations: int = Field(0, ge=0)
    """Blocks a request must be buried under before it is scored (reorg safety)."""
    max_backoff: float = Field(10.0, gt=0)
    """Longest wait (seconds) between retries while the chain or the store is failing."""
    metrics_port: int | None = Field(9464, ge=0, le=65535)
    """Prometheus metrics on 127.0.0.1; None disables them."""
    log_format: str = Field("auto", pattern="^(auto|json|console)$")
    """auto (console on a terminal, else JSON), json or console."""
    log_level: str = "info"
    """debug, info, warning or error."""

    # --- token valuation for features (symbol -> USD per whole token) -------------------------
    usd_prices: dict[str, float] = {"ETH": 3000.0, "mUSD": 1.0, "USDC": 1.0}
    """USD per whole token, by symbol (JSON); a payment in a token without a price is not scored."""

    # --- dashboard (`verdict dashboard`) and compliance reports (`verdict report`) ------------
    dashboard_port: int = Field(8050, ge=1, le=65535)
    """The dashboard listens on 127.0.0.1 only, on this port."""
    reviewer_key: SecretStr | None = None
    """Hex private key of a REVIEWER_ROLE account; the review queue is read-only without it. Never logged."""
    report_threshold_usd: float = Field(10_000.0, gt=0)
    """The reporting threshold structuring tries to stay under (USD)."""
    structuring_band: float = Field(0.10, gt=0, lt=1)
    """A payment is "just below" the threshold when it is within this share under it (0.10: $9,000-9,999)."""
    structuring_window_hours: float = Field(48.0, gt=0)
    """Payments just below the threshold are counted per payer within this sliding window."""
    structuring_min_count: int = Field(3, ge=2)
    """This many such payments by one payer within the window are reported as structuring."""

    # --- oracle network (issue 17; docs/operator-guide.md "Running a node of a network") -----
    network_listen: str | None = None
    """host:port this node serves its signed observations on; set, `verdict run` runs one node of a
    k-of-n network (signed reports through RiskOracle.transmit) instead of posting alone."""
    network_peers: list[str] = []
    """The other nodes' URLs (JSON list, e.g. ["http://10.0.0.2:9701"]). A node's index, the rotation
    and the threshold come from the RiskOracle's node set and quorum, not from here."""
    network_round_blocks: int = Field(4, gt=0)
    """Blocks per round: round r reports every request mined in its aligned block window."""
    network_transmit_timeout: float = Field(3.0, gt=0)
    """Seconds a round's transmitter has before the next node in the rotation transmits instead."""
    # --- vote relayer (`verdict relay`) and signed votes (`verdict sign-vote`) -------------------
    relay_key: SecretStr | None = None
    """Hex private key of the DAO-named relayer (VoteRelay.relayer()), which pays the gas the relay
    reimburses. Never logged."""
    relay_port: int = Field(8070, ge=1, le=65535)
    """`verdict relay` listens on 127.0.0.1 only, on this port."""
    relay_url: str = "http://127.0.0.1:8070"
    """Where `verdict sign-vote` and the dashboard's members page send signed votes."""
    relay_batch_size: int = Field(16, ge=1, le=64)
    """Most signed votes and delegations relayed in one transaction (VoteRelay.MAX_BATCH is 64)."""
    relay_batch_interval: float = Field(1.0, gt=0)
    """Seconds the relayer gathers signatures before submitting a batch."""
    relay_rate_limit: int = Field(20, ge=1)
    """Signed items accepted per member within `relay_rate_window` seconds; more are refused (HTTP 429)."""
    relay_rate_window: float = Field(3600.0, gt=0)
    """The rate limit's sliding window (seconds, wall clock)."""
    relay_metrics_port: int | None = Field(9465, ge=0, le=65535)
    """The relayer's Prometheus metrics on 127.0.0.1; None disables them."""
    member_key: SecretStr | None = None
    """Hex private key of the member `verdict sign-vote` signs for (holds no ETH). Never logged."""

    # --- cross-border payments (issue 18; only with a CrossBorderRouter in the deployment) -----
    fx_slippage_bps: int = Field(50, ge=0, lt=10_000)
    """How far below the quoted amount a node's quote lets the fill land (its `minOut`), in bps."""
    fx_quote_ttl: int = Field(300, ge=30, le=86_400)
    """Seconds a node's quote stays valid: the verdict (or the reviewer's approval) must come within it."""
    fx_feed_check: float = Field(60.0, gt=0)
    """Seconds between the node's looks at the price feeds it posts (FxPriceFeed.updateAnswer)."""
    fx_feed_deviation_bps: int = Field(10, ge=1, le=10_000)
    """A feed is posted when it is off the node's rate source by more than this (bps), or half its
    heartbeat old."""
    fx_rate_day: date | None = None
    """The ECB business day (YYYY-MM-DD) whose reference rates the node posts; default: the deployment
    record's `fx.rate_day`, the day the pools were seeded at."""

    @field_validator("rpc_url")
    @classmethod
    def _rpc_url_is_http(cls, value: str) -> str:
        # Caught here, a typo is one line naming the setting, not a transport error deep in web3.
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not an http(s) URL; give the node's JSON-RPC URL, e.g. http://127.0.0.1:8545"
            )
        return value.strip()

    @field_validator("network_listen")
    @classmethod
    def _listen_is_host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port, e.g. 127.0.0.1:9701")
        return value.strip()


def env_name(field: str) -> str:
    """The environment variable of a Settings field ("rpc_url" -> "VERDICT_RPC_URL")."""
    return ENV_PREFIX + field.upper()


def describe_settings(fields: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(variable, default, description) of each named Settings field, from the Settings class
    itself, for `--help` texts; secrets show no default. A name Settings lacks is a KeyError."""
    out = []
    for name in fields:
        info = Settings.model_fields[name]
        default: Any = info.get_default(call_default_factory=True)
        if default is None or "key" in name or "password" in name:
            shown = ""
        else:  # as it would be typed in the variable: JSON for a mapping
            shown = json.dumps(default) if isinstance(default, dict | list) else str(default)
        out.append((env_name(name), shown, " ".join((info.description or "").split())))
    return out
