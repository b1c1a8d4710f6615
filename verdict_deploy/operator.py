"""What the operator scripts (`ape run propose|vote|traffic|roles`) share: who `--account` names, and a
reverted call told in one line with its custom error's name.

    account = resolve_account("member1")        # local chains: a role name or a test-account index
    with one_line_errors(): gov.proposal_state(1)  # GovernorNonexistentProposal(1), not 0x6ad06075

On a local chain `--account` takes an ape alias, a test-account index (`10`, `TEST::10`) or the name of
a role `Roles.local()` gives (`deployer`, `node`, `reviewer`, `guardian`, `arbiter`, `treasury`,
`member1`..`member4`, `founder1`, `founder2`, `buyer`, `supplier`, `outsider`). Elsewhere only an alias
(`ape accounts import ALIAS`) names an account.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

import click
from ape import accounts
from ape.exceptions import ApeException, ContractLogicError

from oracle.deployment import load_abis
from oracle.errors import ConfigError
from oracle.isolate import RevertDecoder
from verdict_deploy.suite import is_local_network
from verdict_deploy.world import MANIFEST, Roles

T = TypeVar("T")

_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8,}")
_CUSTOM_ERROR = re.compile(r"custom error 0x([0-9a-fA-F]{8})(?:: (.*))?\Z", re.DOTALL)


def local_role_accounts() -> dict[str, Any]:
    """Role name -> test account, as `Roles.local()` (and so `ape run deploy` on a local chain) deals them."""
    roles = Roles.local()
    named: dict[str, Any] = {
        "deployer": roles.deployer,
        "treasury": roles.treasury,
        "node": roles.node,
        "reviewer": roles.reviewer,
        "guardian": roles.guardian,
        "arbiter": roles.arbiters[0],
        "buyer": roles.buyer,
        "supplier": roles.supplier,
        "outsider": roles.outsider,
        "relayer": roles.relayer,
    }
    named.update({f"member{i}": member for i, member in enumerate(roles.members, start=1)})
    named.update({f"founder{i}": founder for i, founder in enumerate(roles.founders, start=1)})
    return named


def test_account_index(account: Any) -> int | None:
    """The index of `account` among the local test accounts, or None."""
    for index, test_account in enumerate(accounts.test_accounts):
        if test_account.address == getattr(account, "address", account):
            return index
        if index > 64:  # ape derives test accounts lazily: never walk an unbounded list
            return None
    return None


def resolve_account(value: str | None) -> Any:
    """The account `--account VALUE` names (see the module's docstring). Raises click.BadParameter
    with the accepted forms when nothing matches."""
    if not value:
        raise click.BadParameter("an account is required", param_hint="--account")
    if value in accounts.aliases:
        return accounts.load(value)
    local = is_local_network()
    if local:
        index = value.removeprefix("TEST::")
        if index.isdigit():
            return accounts.test_accounts[int(index)]
        roles = local_role_accounts()
        if value.lower() in roles:
            return roles[value.lower()]
        hint = (
            f"no account {value!r}: on a local chain use a role ({', '.join(roles)}), a test-account index "
            "(0-19) or an alias from `ape accounts list`"
        )
    else:
        hint = (
            f"no account alias {value!r}: create it with `ape accounts import {value}` (`ape accounts list`)"
        )
    raise click.BadParameter(hint, param_hint="--account")


account_argument = click.option(
    "--account",
    "account_name",
    required=True,
    help="An ape account alias; on a local chain also a role name (member1, guardian...) or a test-account "
    "index.",
)


accounts_argument = click.option(
    "--account",
    "account_names",
    required=True,
    multiple=True,
    help="An account as for --account elsewhere; repeat it for several.",
)


@cache
def _decoder() -> RevertDecoder:
    try:
        return RevertDecoder(load_abis(MANIFEST))
    except ConfigError:
        return RevertDecoder({})


def describe_error(error: BaseException) -> str:
    """One line for a failed call: a custom error by its name and arguments (from the compiled ABIs),
    otherwise ape's own message."""
    for data in _revert_data(error):
        decoded = _decoder().decode(data)
        if not decoded.startswith("reverted with unknown error"):
            return f"the call reverted: {decoded}"
    text = " ".join(str(error).split()) or type(error).__name__
    name = type(error).__name__
    if isinstance(error, ContractLogicError) and name not in ("ContractLogicError", "VirtualMachineError"):
        # ape decoded it itself (a CustomError subclass named after the error)
        return f"the call reverted: {text}" if text.startswith(name) else f"the call reverted: {name}({text})"
    return text


def _revert_data(error: BaseException) -> list[bytes]:
    """The revert data an ape error carries, best first: web3's own (`base_err.data`), then ape's
    "custom error 0x<selector>: <raw argument bytes>" message, then any long hex in the message."""
    found: list[bytes] = []
    base = getattr(error, "base_err", None)
    data = getattr(base, "data", None)
    if isinstance(data, bytes):
        found.append(data)
    elif isinstance(data, str) and data.startswith("0x"):
        found.append(bytes.fromhex(data[2:]) if len(data) % 2 == 0 else b"")
    message = str(getattr(error, "revert_message", None) or error)
    custom = _CUSTOM_ERROR.search(message)
    if custom:
        # ape prints the arguments as raw bytes: one character per byte.
        found.append(bytes.fromhex(custom.group(1)) + (custom.group(2) or "").encode("latin-1", "replace"))
    found += [bytes.fromhex(h[2:]) for h in _HEX_DATA.findall(message) if len(h) % 2 == 0]
    return [d for d in found if len(d) >= 4]


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turns a user mistake or a reverted call into click's one-line error (exit 1), never a traceback."""
    try:
        yield
    except click.ClickException:
        raise
    except (ApeException, RuntimeError, ValueError, ConfigError) as error:
        raise click.ClickException(describe_error(error)) from None


def guarded(action: Callable[[], T]) -> T:
    with one_line_errors():
        return action()
