"""Where the suite lives and what it looks like: the deployment record, the compiled ABIs, and the
node's signing key. Read once at startup; a bad file is a ConfigError with the fix in its message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import BlockNotFound

from oracle.config import Settings
from oracle.errors import ConfigError

# The record format `write_deployment` writes; version 1 (no chain binding) is refused.
RECORD_VERSION = 2
REDEPLOY = "redeploy with `ape run deploy --network ...` (or point VERDICT_DEPLOYMENT at this chain's record)"


class DeploymentRecordError(ConfigError):
    """A deployment record that cannot be used against the chain at hand: written by an older deploy
    (not bound to a chain), or bound to another chain (another chain id, or a restarted anvil)."""


@dataclass(frozen=True, slots=True)
class Deployment:
    """A deployment record (`deployments/<network>.json`, the demo's `var/demo/deployment.json`):
    where the suite lives, from which block to read, and the chain it is bound to.

    The binding is the chain id plus the hash of block `block` (the first block of the deployment):
    a restarted anvil reuses the chain id and even the addresses, never that hash. `verify(w3)`
    checks it; every reader calls it before trusting an address.
    """

    network: str
    chain_id: int | None
    block: int
    contracts: dict[str, str]
    block_hash: str | None = None
    roles: dict[str, Any] = field(default_factory=dict)  # role -> address, or list of addresses
    abis: dict[str, str] = field(default_factory=dict)  # contract -> ABI file, relative to the record
    path: Path | None = None
    # Optional (cross-border deploys only; older records lack it): the seed day of the rates and,
    # per currency, the names of its token and feed in `contracts` (docs/deployment-record.md).
    fx: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Reads a record; one not bound to a chain is a DeploymentRecordError telling to redeploy."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
            record = cls(
                network=str(raw.get("network", "?")),
                chain_id=raw.get("chain_id"),
                block=int(raw.get("block", 0)),
                contracts={k: to_checksum_address(v) for k, v in raw["contracts"].items()},
                block_hash=raw.get("block_hash"),
                roles=dict(raw.get("roles", {})),
                abis={k: str(v) for k, v in raw.get("abis", {}).items()},
                path=path,
                fx=dict(raw.get("fx") or {}),
            )
        except FileNotFoundError:
            raise ConfigError(f"no deployment file at {path}: run `ape run deploy` first") from None
        except IsADirectoryError:
            raise ConfigError(f"deployment file {path} is a directory, not a record") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"deployment file {path} is not valid: {exc}") from None
        if not isinstance(record.chain_id, int) or not isinstance(record.block_hash, str):
            raise DeploymentRecordError(
                f"deployment record {path} is not bound to a chain (no chain id and block hash; "
                f"written by an older deploy): {REDEPLOY}"
            )
        return record

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise ConfigError(f"deployment has no {name} (has: {', '.join(self.contracts)})") from None

    def abi_path(self, name: str) -> Path | None:
        """The ABI file written next to the record for contract `name` (for `cast` and other clients)."""
        if name not in self.abis or self.path is None:
            return None
        return self.path.parent / self.abis[name]

    def check(self, chain_id: int, block_hash: str | None, where: str) -> None:
        """Raises DeploymentRecordError unless the chain at `where` has this record's chain id and,
        at the record's block, its block hash (`block_hash` None: the chain has no such block)."""
        name = self.path or self.network
        if chain_id != self.chain_id:
            raise DeploymentRecordError(
                f"deployment record {name} is for chain id {self.chain_id}, but {where} is chain id "
                f"{chain_id}: {REDEPLOY}"
            )
        if block_hash is None:
            raise DeploymentRecordError(
                f"deployment record {name} was deployed at block {self.block}, which {where} does not "
                f"have (a restarted chain?): {REDEPLOY}"
            )
        if block_hash.lower() != str(self.block_hash).lower():
            raise DeploymentRecordError(
                f"deployment record {name} belongs to another chain: block {self.block} at {where} is "
                f"{block_hash[:12]}…, the record was deployed at {str(self.block_hash)[:12]}… (another "
                f"chain, or this one restarted): {REDEPLOY}"
            )

    def verify(self, w3: Web3, where: str | None = None) -> None:
        """Checks the binding against the chain `w3` talks to (see `check`). Transport errors are the
        caller's (ChainClient turns them into ChainError)."""
        where = where or str(getattr(w3.provider, "endpoint_uri", None) or "the chain")
        try:
            block_hash: str | None = Web3.to_hex(w3.eth.get_block(self.block)["hash"])
        except BlockNotFound:
            block_hash = None
        self.check(int(w3.eth.chain_id), block_hash, where)


def load_abis(manifest: Path) -> dict[str, list[dict[str, Any]]]:
    """Contract name -> ABI from ape's compiled project manifest."""
    try:
        types = json.loads(Path(manifest).read_text())["contractTypes"]
    except FileNotFoundError:
        raise ConfigError(f"no compiled contracts at {manifest}: run `ape compile` first") from None
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"build manifest {manifest} is not valid: {exc}") from None
    return {name: ct["abi"] for name, ct in types.items() if "abi" in ct}


def load_node_account(settings: Settings) -> LocalAccount:
    """The node's signing key, from the environment or an encrypted keystore. Never logged."""
    if settings.node_key is not None:
        try:
            return Account.from_key(settings.node_key.get_secret_value())
        except (ValueError, TypeError):
            raise ConfigError("VERDICT_NODE_KEY is not a valid private key") from None
    if settings.keystore is not None:
        if settings.keystore_password is None:
            raise ConfigError("VERDICT_KEYSTORE is set but VERDICT_KEYSTORE_PASSWORD is not")
        try:
            blob = json.loads(Path(settings.keystore).read_text())
            key = Account.decrypt(blob, settings.keystore_password.get_secret_value())
        except FileNotFoundError:
            raise ConfigError(f"keystore {settings.keystore} does not exist") from None
        except ValueError:
            raise ConfigError(
                f"cannot decrypt keystore {settings.keystore}: wrong password or file"
            ) from None
        return Account.from_key(key)
    raise ConfigError("no node key: set VERDICT_NODE_KEY, or VERDICT_KEYSTORE and VERDICT_KEYSTORE_PASSWORD")
