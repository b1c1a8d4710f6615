"""One settings object for every command and the daemon, read from `VERDICT_*` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Verdict's configuration. Every field can be set as `VERDICT_<NAME>` (or in a `.env` file)."""

    model_config = SettingsConfigDict(env_prefix="VERDICT_", env_file=".env", extra="ignore")

    # --- chain -----------------------------------------------------------------------------
    rpc_url: str = "http://127.0.0.1:8545"
    deployment: Path = Path("deployments/local.json")
    """Written by `ape run deploy`: contract name -> address, plus the deployment block."""
    build_manifest: Path = Path(".build/__local__.json")
    """ape's compiled project manifest; the ABIs are read from it."""

    # --- node identity: the key is never printed or logged -----------------------------------
    node_key: SecretStr | None = None
    """Hex private key of this oracle node (or use `keystore` + `keystore_password`)."""
    keystore: Path | None = None
    keystore_password: SecretStr | None = None

    # --- storage -----------------------------------------------------------------------------
    store_url: str = "sqlite:///var/verdict.sqlite"
    """SQLAlchemy URL: SQLite by default, `postgresql+psycopg://...` for PostgreSQL."""

    # --- model -------------------------------------------------------------------------------
    model_dir: Path = Path("var/model")

    # --- daemon ------------------------------------------------------------------------------
    poll_interval: float = Field(0.05, gt=0)
    """Seconds between `eth_getLogs` polls when idle."""
    log_batch_blocks: int = Field(2000, gt=0)
    """Largest block range asked of `eth_getLogs` at once."""
    verdict_batch_size: int = Field(100, gt=0, le=500)
    """Most verdicts sent in one `submitVerdicts` transaction."""
    verdict_batch_max: int = Field(200, gt=0, le=500)  # batch size while the backlog is larger (fewer txs)
    verdict_gas_cap: int = Field(15_000_000, ge=500_000)
    """Most gas one verdict transaction may need (and at most half the block gas limit): a batch
    estimated above it, or refused by the node, is split until its parts fit (split and park)."""
    confirmations: int = Field(0, ge=0)
    max_backoff: float = Field(10.0, gt=0)
    metrics_port: int | None = Field(9464, ge=0, le=65535)
    """Prometheus metrics on 127.0.0.1; None disables them."""
    log_format: str = Field("auto", pattern="^(auto|json|console)$")
    log_level: str = "info"

    # --- token valuation for features (symbol -> USD per whole token) -------------------------
    usd_prices: dict[str, float] = {"ETH": 3000.0, "mUSD": 1.0, "USDC": 1.0}

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
