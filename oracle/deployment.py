"""Where the suite lives and what it looks like: the deployment record, the compiled ABIs, and the
node's signing key. Read once at startup; a bad file is a ConfigError with the fix in its message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from oracle.config import Settings
from oracle.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Deployment:
    """`deployments/<network>.json`: where the suite lives and from which block to read."""

    network: str
    chain_id: int | None
    block: int
    contracts: dict[str, str]

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            raw = json.loads(Path(path).read_text())
            return cls(
                network=str(raw.get("network", "?")),
                chain_id=raw.get("chain_id"),
                block=int(raw.get("block", 0)),
                contracts={k: to_checksum_address(v) for k, v in raw["contracts"].items()},
            )
        except FileNotFoundError:
            raise ConfigError(f"no deployment file at {path}: run `ape run deploy` first") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"deployment file {path} is not valid: {exc}") from None

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise ConfigError(f"deployment has no {name} (has: {', '.join(self.contracts)})") from None


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
