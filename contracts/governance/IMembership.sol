// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IMembership
/// @notice The registry of community members read by the governor for quadratic voting weight.
interface IMembership {
    event MemberAdded(address indexed account, address indexed referrer);
    event MemberRemoved(address indexed account);
    event ReferralBonusReserved(address indexed referrer, address indexed invitee, uint256 amount, uint48 vestsAt);
    event ReferralBonusPaid(address indexed referrer, address indexed invitee, uint256 amount);
    event ReferralBonusClawedBack(address indexed referrer, address indexed invitee, uint256 amount);
    event ReferralBonusUnpaid(address indexed referrer, address indexed invitee, uint256 bonus, uint256 budgetLeft);
    event ReferralTermsChanged(uint256 bonus, uint32 invitesPerMember);
    event ReferralVestingChanged(uint48 oldVesting, uint48 newVesting);
    event ReferralBudgetChanged(uint256 oldBudget, uint256 newBudget);
    event TokensRecovered(address indexed to, uint256 amount);

    error MembershipNotMember(address account);
    error MembershipAlreadyMember(address account);
    error MembershipZeroAddress();
    error MembershipNoInvitesLeft(address referrer);
    error MembershipFutureLookup(uint256 timepoint, uint48 clock);
    error MembershipNoReferralBonus(address invitee);
    error MembershipReferralBonusVesting(address invitee, uint48 vestsAt);
    error MembershipReservedTokens(uint256 amount, uint256 free);

    /// @notice Whether `account` is a member now.
    function isMember(address account) external view returns (bool);

    /// @notice Whether `account` was a member at `timepoint` (a timestamp, the token's clock).
    /// Requirements: `timepoint` is in the past.
    function wasMemberAt(address account, uint256 timepoint) external view returns (bool);

    /// @notice The root of `account`'s invite tree: the account itself for a founding member or one admitted
    /// by governance, its referrer's root for an invitee; address(0) for an account that never joined.
    /// Quadratic voting counts each tree as one voter.
    function inviteRootOf(address account) external view returns (address);
}
