"""deploy_governance: distribution, role handover, and one demo round."""

from verdict_deploy.governance import TOKEN, run_threshold_round


def test_distribution_matches_tokenomics(dao, token, timelock, membership, members, gov_config):
    supply = gov_config.supply
    assert token.totalSupply() == supply
    assert token.balanceOf(timelock) == supply * 55 // 100
    assert token.balanceOf(dao["VestingGrant1"]) + token.balanceOf(dao["VestingGrant2"]) == supply * 20 // 100
    assert all(token.balanceOf(m) == 400_000 * TOKEN for m in members)
    assert token.balanceOf(membership) == membership.referralBudget() == supply * 5 // 100
    assert membership.members() == [m.address for m in members]


def test_timelock_owns_every_policy_setter_and_the_deployer_nothing(
    dao, deployer, guardian, timelock, governor
):
    for name in ("PaymentRouter", "RiskOracle"):
        contract = dao[name]
        admin = contract.DEFAULT_ADMIN_ROLE()
        assert contract.hasRole(admin, timelock)
        assert not contract.hasRole(admin, deployer)
    assert dao["PaymentRouter"].hasRole(dao["PaymentRouter"].GUARDIAN_ROLE(), guardian)
    assert dao["PaymentRouter"].treasury() == timelock.address
    for role in (timelock.PROPOSER_ROLE(), timelock.CANCELLER_ROLE(), timelock.EXECUTOR_ROLE()):
        assert timelock.hasRole(role, governor)
        assert not timelock.hasRole(role, deployer)
    assert not timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), deployer)
    assert dao["Membership"].owner() == timelock.address
    assert governor.proposalGuardian() == guardian.address
    assert governor.CLOCK_MODE() == token_clock_mode(dao)


def token_clock_mode(dao):
    return dao["CommunityToken"].CLOCK_MODE()


def test_run_threshold_round_changes_the_review_threshold(dao, members, router):
    result = run_threshold_round(dao, members[:2], 9800)  # review 2% of legitimate payments, not 1%
    assert result["state"] == "Executed"
    assert result["track"] == "Routine"
    assert result["threshold_before"] == 9900
    assert result["threshold_after"] == 9800 == router.reviewThreshold()
