"""deploy_governance: distribution, role handover, and one demo round."""

from verdict_deploy.governance import TOKEN, GovernanceConfig, review_share_threshold, run_threshold_round


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


def test_routine_bands_are_shares_of_legitimate_traffic_around_the_thresholds():
    config = GovernanceConfig.local()
    # the defaults: 9,900 / 9,990 reviewing 1% / refunding 0.1%, tunable to 0.25-4% / 0.05-0.2%
    assert (config.review_band, config.reject_band) == ((9_600, 9_975), (9_980, 9_995))
    centred = config.with_bands_around(9_900, 9_990)
    assert (centred.review_band, centred.reject_band) == (config.review_band, config.reject_band)
    other = config.with_bands_around(9_500, 9_950)  # 5% / 0.5%
    assert other.review_band == (8_000, 9_875) and other.reject_band == (9_900, 9_975)
    assert review_share_threshold(9_900, 2.0) == 9_800
    assert review_share_threshold(9_900, 0.5) == 9_950
    assert review_share_threshold(9_900, 10.0, config.review_band) == 9_600  # clamped into the band
