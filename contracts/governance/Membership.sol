// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IMembership} from "./IMembership.sol";

/// @title Membership
/// @notice The public list of community members. A member joins by invitation from an existing member
/// (a referral) or by a governance decision; governance may also remove members. Membership is
/// checkpointed on the token's clock (timestamps) so the governor can ask who was a member at a
/// proposal's snapshot: joining after the snapshot gives no quadratic weight on that proposal.
///
/// Every member belongs to an invite tree ({inviteRootOf}): a founding member or one admitted by governance
/// is a root, an invitee joins its referrer's tree. Quadratic voting counts a tree as one voter, so
/// inviting one's own sock puppets adds no quadratic weight.
///
/// A referrer earns a referral bonus in the community token out of a budget that governance sets and funds
/// (a proposal transfers tokens here and calls {setReferralBudget}). The bonus is reserved from the budget
/// at invitation and vests for {referralVesting} seconds; anyone may then {releaseReferralBonus} it to the
/// referrer. If governance removes the invitee before (a sock-puppet finding), the bonus is clawed back
/// into the budget; if the referrer is no longer a member at release, likewise. The sum of bonuses ever
/// reserved never exceeds the budgets granted: when what is left (or the unreserved balance) is smaller
/// than the bonus, the invitation still succeeds but no bonus is reserved ({ReferralBonusUnpaid}).
///
/// The owner is the governance executor (the TimelockController).
contract Membership is IMembership, Ownable {
    using EnumerableSet for EnumerableSet.AddressSet;
    using Checkpoints for Checkpoints.Trace208;
    using SafeERC20 for IERC20;

    /// @notice A referral bonus reserved for `referrer`, payable from `vestsAt`.
    struct PendingBonus {
        address referrer;
        uint48 vestsAt;
        uint256 amount;
    }

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    IERC20 private immutable _token;

    EnumerableSet.AddressSet private _members;
    mapping(address account => Checkpoints.Trace208) private _history;
    mapping(address account => address) private _referrerOf;
    mapping(address account => uint32) private _invitesUsed;
    mapping(address account => address) private _rootOf;
    mapping(address invitee => PendingBonus) private _pendingBonus;

    uint256 private _referralBonus;
    uint256 private _referralBudget;
    uint256 private _referralsPaid;
    uint32 private _invitesPerMember;
    uint48 private _referralVesting;
    uint256 private _referralsReserved;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param token_ the community token bonuses are paid in
    /// @param governance the owner: the TimelockController
    /// @param initialMembers the founding members (no referrer, no bonus)
    /// @param referralBonus_ the bonus per referral
    /// @param invitesPerMember_ how many members each member may invite
    /// @param referralVesting_ seconds a referral bonus vests before it can be released
    /// @dev The initial referral budget is 0: fund it with a transfer and {setReferralBudget}.
    constructor(
        IERC20 token_,
        address governance,
        address[] memory initialMembers,
        uint256 referralBonus_,
        uint32 invitesPerMember_,
        uint48 referralVesting_
    ) Ownable(governance) {
        _token = token_;
        for (uint256 i = 0; i < initialMembers.length; ++i) {
            _addMember(initialMembers[i], address(0));
        }
        _setReferralTerms(referralBonus_, invitesPerMember_);
        _setReferralVesting(referralVesting_);
    }

    /*//////////////////////////////////////////////////////////////
                           MEMBERSHIP CHANGES
    //////////////////////////////////////////////////////////////*/

    /// @notice The sender, a member, invites `invitee`, who becomes a member of the sender's invite tree at
    /// once. A referral bonus is reserved for the sender, vesting for {referralVesting}, if the budget
    /// left and the unreserved balance cover it.
    ///
    /// Requirements:
    /// - the sender is a member with an invitation left;
    /// - `invitee` is non-zero and not a member.
    ///
    /// Emits {MemberAdded}, then {ReferralBonusReserved} or {ReferralBonusUnpaid}.
    function invite(address invitee) external {
        address referrer = msg.sender;
        if (!_members.contains(referrer)) revert MembershipNotMember(referrer);
        uint32 used = _invitesUsed[referrer];
        if (used >= _invitesPerMember) revert MembershipNoInvitesLeft(referrer);

        _invitesUsed[referrer] = used + 1;
        _addMember(invitee, referrer);
        _reserveReferral(referrer, invitee);
    }

    /// @notice Governance admits `account` without a referral (no bonus is paid); it roots its own invite
    /// tree.
    ///
    /// Requirements: the caller is the owner (governance); `account` is non-zero and not a member.
    ///
    /// Emits {MemberAdded}.
    function addMember(address account) external onlyOwner {
        _addMember(account, address(0));
    }

    /// @notice Governance removes `account` from the members (e.g. a sock-puppet finding). A referral bonus
    /// still vesting for inviting `account` is clawed back into the budget.
    ///
    /// Requirements: the caller is the owner (governance); `account` is a member.
    ///
    /// Emits {MemberRemoved}, then {ReferralBonusClawedBack} if a bonus was vesting.
    function removeMember(address account) external onlyOwner {
        if (!_members.remove(account)) revert MembershipNotMember(account);
        // The checkpoint's previous and new values are not needed here.
        // slither-disable-next-line unused-return
        _history[account].push(Time.timestamp(), 0);
        emit MemberRemoved(account);
        if (_pendingBonus[account].amount != 0) _clawBack(account);
    }

    /// @notice Pays the vested referral bonus reserved for inviting `invitee` to its referrer, or claws it
    /// back into the budget if the referrer is no longer a member. Anyone may call it.
    ///
    /// Requirements:
    /// - a bonus is reserved for `invitee` (not yet released or clawed back);
    /// - it has vested, unless the referrer is no longer a member.
    ///
    /// Emits {ReferralBonusPaid} or {ReferralBonusClawedBack}.
    function releaseReferralBonus(address invitee) external {
        PendingBonus memory pending = _pendingBonus[invitee];
        if (pending.amount == 0) revert MembershipNoReferralBonus(invitee);
        if (!_members.contains(pending.referrer)) {
            _clawBack(invitee);
            return;
        }
        if (Time.timestamp() < pending.vestsAt) revert MembershipReferralBonusVesting(invitee, pending.vestsAt);
        delete _pendingBonus[invitee];
        _referralsReserved -= pending.amount;
        _referralsPaid += pending.amount;
        emit ReferralBonusPaid(pending.referrer, invitee, pending.amount);
        _token.safeTransfer(pending.referrer, pending.amount);
    }

    /*//////////////////////////////////////////////////////////////
                            REFERRAL POLICY
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets the bonus per referral and the number of invitations each member has.
    ///
    /// Requirements: the caller is the owner (governance).
    ///
    /// Emits {ReferralTermsChanged}.
    function setReferralTerms(uint256 bonus, uint32 invitesPerMember_) external onlyOwner {
        _setReferralTerms(bonus, invitesPerMember_);
    }

    /// @notice Sets how long referral bonuses reserved from now on vest: the time governance has to find
    /// sock puppets and remove them before their inviter is paid.
    ///
    /// Requirements: the caller is the owner (governance).
    ///
    /// Emits {ReferralVestingChanged}.
    function setReferralVesting(uint48 newVesting) external onlyOwner {
        _setReferralVesting(newVesting);
    }

    /// @notice Sets the referral budget left to `newBudget`: the most that bonuses may pay from now on.
    ///
    /// Requirements: the caller is the owner (governance).
    ///
    /// Emits {ReferralBudgetChanged}.
    function setReferralBudget(uint256 newBudget) external onlyOwner {
        uint256 oldBudget = _referralBudget;
        _referralBudget = newBudget;
        emit ReferralBudgetChanged(oldBudget, newBudget);
    }

    /// @notice Sends `amount` of the token held here back to `to` (e.g. the treasury). Bonuses reserved
    /// for vesting referrals stay.
    ///
    /// Requirements: the caller is the owner (governance); `to` is non-zero; `amount` is at most the balance
    /// not reserved for vesting bonuses.
    ///
    /// Emits {TokensRecovered}.
    function recoverTokens(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert MembershipZeroAddress();
        uint256 free = _freeBalance();
        if (amount > free) revert MembershipReservedTokens(amount, free);
        emit TokensRecovered(to, amount);
        _token.safeTransfer(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IMembership
    function isMember(address account) external view returns (bool) {
        return _members.contains(account);
    }

    /// @inheritdoc IMembership
    function wasMemberAt(address account, uint256 timepoint) external view returns (bool) {
        uint48 now_ = Time.timestamp();
        if (timepoint >= now_) revert MembershipFutureLookup(timepoint, now_);
        return _history[account].upperLookupRecent(uint48(timepoint)) == 1;
    }

    /// @inheritdoc IMembership
    function inviteRootOf(address account) external view returns (address) {
        return _rootOf[account];
    }

    /// @notice The referral bonus reserved for inviting `invitee` (amount 0 if none).
    function pendingReferralBonus(address invitee) external view returns (PendingBonus memory) {
        return _pendingBonus[invitee];
    }

    /// @notice The sum of referral bonuses reserved and still vesting.
    function referralsReserved() external view returns (uint256) {
        return _referralsReserved;
    }

    function referralVesting() external view returns (uint48) {
        return _referralVesting;
    }

    /// @notice Every current member (the public member list).
    function members() external view returns (address[] memory) {
        return _members.values();
    }

    /// @notice How many members there are.
    function memberCount() external view returns (uint256) {
        return _members.length();
    }

    /// @notice The member at `index` of the list (order changes on removal).
    function memberAt(uint256 index) external view returns (address) {
        return _members.at(index);
    }

    /// @notice Who invited `account` (address(0) for founders and members admitted by governance).
    function referrerOf(address account) external view returns (address) {
        return _referrerOf[account];
    }

    /// @notice How many invitations `account` has left.
    function invitesLeft(address account) external view returns (uint256) {
        uint32 used = _invitesUsed[account];
        return used >= _invitesPerMember ? 0 : _invitesPerMember - used;
    }

    /// @notice The token bonuses are paid in.
    function token() external view returns (IERC20) {
        return _token;
    }

    function referralBonus() external view returns (uint256) {
        return _referralBonus;
    }

    /// @notice What is left of the referral budget.
    function referralBudget() external view returns (uint256) {
        return _referralBudget;
    }

    /// @notice The sum of all referral bonuses ever paid.
    function referralsPaid() external view returns (uint256) {
        return _referralsPaid;
    }

    function invitesPerMember() external view returns (uint32) {
        return _invitesPerMember;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _addMember(address account, address referrer) internal virtual {
        if (account == address(0)) revert MembershipZeroAddress();
        if (!_members.add(account)) revert MembershipAlreadyMember(account);
        // The checkpoint's previous and new values are not needed here.
        // slither-disable-next-line unused-return
        _history[account].push(Time.timestamp(), 1);
        _referrerOf[account] = referrer;
        _rootOf[account] = referrer == address(0) ? account : _rootOf[referrer];
        emit MemberAdded(account, referrer);
    }

    /// @dev Reserves the bonus for `referrer`, vesting, only if both the budget left and the unreserved
    /// balance cover it.
    function _reserveReferral(address referrer, address invitee) internal virtual {
        uint256 bonus = _referralBonus;
        if (bonus == 0) return;
        uint256 budget = _referralBudget;
        if (bonus > budget || bonus > _freeBalance()) {
            emit ReferralBonusUnpaid(referrer, invitee, bonus, budget);
            return;
        }
        // bonus <= budget was checked just above
        unchecked {
            _referralBudget = budget - bonus;
        }
        _referralsReserved += bonus;
        uint48 vestsAt = Time.timestamp() + _referralVesting;
        _pendingBonus[invitee] = PendingBonus(referrer, vestsAt, bonus);
        emit ReferralBonusReserved(referrer, invitee, bonus, vestsAt);
    }

    /// @dev Returns the bonus reserved for `invitee` to the budget.
    function _clawBack(address invitee) internal virtual {
        PendingBonus memory pending = _pendingBonus[invitee];
        delete _pendingBonus[invitee];
        _referralsReserved -= pending.amount;
        _referralBudget += pending.amount;
        emit ReferralBonusClawedBack(pending.referrer, invitee, pending.amount);
    }

    /// @dev The balance not reserved for vesting bonuses (0 if the balance fell below the reservations).
    function _freeBalance() internal view virtual returns (uint256) {
        uint256 balance = _token.balanceOf(address(this));
        uint256 reserved = _referralsReserved;
        return balance > reserved ? balance - reserved : 0;
    }

    function _setReferralVesting(uint48 newVesting) internal virtual {
        uint48 oldVesting = _referralVesting;
        _referralVesting = newVesting;
        emit ReferralVestingChanged(oldVesting, newVesting);
    }

    function _setReferralTerms(uint256 bonus, uint32 invitesPerMember_) internal virtual {
        _referralBonus = bonus;
        _invitesPerMember = invitesPerMember_;
        emit ReferralTermsChanged(bonus, invitesPerMember_);
    }
}
