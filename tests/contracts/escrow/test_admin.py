"""Administration: windows, fees, addresses, pause; every setter is admin-only."""

import ape
import pytest
from escrow_helpers import DAY

WINDOWS = (DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY)


def test_defaults(escrow, deployer, policy, oracle_node, treasury):
    assert escrow.hasRole(escrow.DEFAULT_ADMIN_ROLE(), deployer)
    assert escrow.router() == policy.address
    assert escrow.oracle() == oracle_node.address
    assert escrow.treasury() == treasury.address
    assert escrow.arbiterFeeBps() == 100
    assert tuple(escrow.windows()) == (3 * DAY, DAY, 3 * DAY, 3 * DAY, 7 * DAY)


def test_set_windows(escrow, deployer):
    tx = escrow.setWindows(WINDOWS, sender=deployer)
    assert tuple(escrow.windows()) == WINDOWS
    assert len(list(tx.decode_logs(escrow.WindowsChanged))) == 1


@pytest.mark.parametrize("bad", [59, 30 * DAY + 1])
def test_set_windows_bounds(escrow, deployer, bad):
    with ape.reverts(escrow.EscrowInvalidWindow, window=bad):
        escrow.setWindows((DAY, DAY, bad, DAY, DAY), sender=deployer)


def test_set_arbiter_fee(escrow, deployer):
    escrow.setArbiterFeeBps(1000, sender=deployer)
    assert escrow.arbiterFeeBps() == 1000
    with ape.reverts(escrow.EscrowFeeTooHigh, bps=1001):
        escrow.setArbiterFeeBps(1001, sender=deployer)


def test_set_addresses(escrow, deployer, outsider):
    for setter, getter, event in (
        (escrow.setTreasury, escrow.treasury, escrow.TreasuryChanged),
        (escrow.setOracle, escrow.oracle, escrow.OracleChanged),
        (escrow.setRouter, escrow.router, escrow.RouterChanged),
    ):
        tx = setter(outsider, sender=deployer)
        assert getter() == outsider.address
        assert len(list(tx.decode_logs(event))) == 1
        with ape.reverts(escrow.EscrowZeroAddress):
            setter("0x0000000000000000000000000000000000000000", sender=deployer)


def test_setters_are_admin_only(escrow, outsider, guardian):
    for call in (
        lambda s: escrow.setWindows(WINDOWS, sender=s),
        lambda s: escrow.setArbiterFeeBps(1, sender=s),
        lambda s: escrow.setTreasury(s, sender=s),
        lambda s: escrow.setOracle(s, sender=s),
        lambda s: escrow.setRouter(s, sender=s),
        lambda s: escrow.grantRole(escrow.ARBITER_ROLE(), s, sender=s),
    ):
        for account in (outsider, guardian):
            with ape.reverts(escrow.AccessControlUnauthorizedAccount):
                call(account)


def test_pause_roles(escrow, deployer, guardian, outsider):
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.pause(sender=outsider)
    escrow.pause(sender=guardian)
    assert escrow.paused()
    with ape.reverts(escrow.AccessControlUnauthorizedAccount):
        escrow.unpause(sender=guardian)
    escrow.unpause(sender=deployer)
    escrow.pause(sender=deployer)  # the admin may pause too
    assert escrow.paused()


def test_constructor_rejects_zero_addresses(project, deployer, policy, treasury):
    zero = "0x0000000000000000000000000000000000000000"
    with ape.reverts():
        deployer.deploy(project.Escrow, deployer, zero, deployer, treasury)
