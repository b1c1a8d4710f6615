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
/// A referrer is paid a referral bonus in the community token, automatically, out of a budget that
/// governance sets and funds (a proposal transfers tokens here and calls {setReferralBudget}). The sum of
/// bonuses ever paid never exceeds the budgets granted: when what is left is smaller than the bonus, the
/// invitation still succeeds but no bonus is paid ({ReferralBonusUnpaid}).
///
/// The owner is the governance executor (the TimelockController).
contract Membership is IMembership, Ownable {
    using EnumerableSet for EnumerableSet.AddressSet;
    using Checkpoints for Checkpoints.Trace208;
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    IERC20 private immutable _token;

    EnumerableSet.AddressSet private _members;
    mapping(address account => Checkpoints.Trace208) private _history;
    mapping(address account => address) private _referrerOf;
    mapping(address account => uint32) private _invitesUsed;

    uint256 private _referralBonus;
    uint256 private _referralBudget;
    uint256 private _referralsPaid;
    uint32 private _invitesPerMember;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param token_ the community token bonuses are paid in
    /// @param governance the owner: the TimelockController
    /// @param initialMembers the founding members (no referrer, no bonus)
    /// @param referralBonus_ the bonus per referral
    /// @param invitesPerMember_ how many members each member may invite
    /// @dev The initial referral budget is 0: fund it with a transfer and {setReferralBudget}.
    constructor(
        IERC20 token_,
        address governance,
        address[] memory initialMembers,
        uint256 referralBonus_,
        uint32 invitesPerMember_
    ) Ownable(governance) {
        _token = token_;
        for (uint256 i = 0; i < initialMembers.length; ++i) {
            _addMember(initialMembers[i], address(0));
        }
        _setReferralTerms(referralBonus_, invitesPerMember_);
    }

    /*//////////////////////////////////////////////////////////////
                           MEMBERSHIP CHANGES
    //////////////////////////////////////////////////////////////*/

    /// @notice The sender, a member, invites `invitee`, who becomes a member at once. The sender is
    /// paid the referral bonus if the budget left and this contract's balance cover it.
    ///
    /// Requirements:
    /// - the sender is a member with an invitation left;
    /// - `invitee` is non-zero and not a member.
    ///
    /// Emits {MemberAdded}, then {ReferralBonusPaid} or {ReferralBonusUnpaid}.
    function invite(address invitee) external {
        address referrer = msg.sender;
        if (!_members.contains(referrer)) revert MembershipNotMember(referrer);
        uint32 used = _invitesUsed[referrer];
        if (used >= _invitesPerMember) revert MembershipNoInvitesLeft(referrer);

        _invitesUsed[referrer] = used + 1;
        _addMember(invitee, referrer);
        _payReferral(referrer, invitee);
    }

    /// @notice Governance admits `account` without a referral (no bonus is paid).
    ///
    /// Requirements: the caller is the owner (governance); `account` is non-zero and not a member.
    function addMember(address account) external onlyOwner {
        _addMember(account, address(0));
    }

    /// @notice Governance removes `account` from the members.
    ///
    /// Requirements: the caller is the owner (governance); `account` is a member.
    function removeMember(address account) external onlyOwner {
        if (!_members.remove(account)) revert MembershipNotMember(account);
        // The checkpoint's previous and new values are not needed here.
        // slither-disable-next-line unused-return
        _history[account].push(Time.timestamp(), 0);
        emit MemberRemoved(account);
    }

    /*//////////////////////////////////////////////////////////////
                            REFERRAL POLICY
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets the bonus per referral and the number of invitations each member has.
    ///
    /// Requirements: the caller is the owner (governance).
    function setReferralTerms(uint256 bonus, uint32 invitesPerMember_) external onlyOwner {
        _setReferralTerms(bonus, invitesPerMember_);
    }

    /// @notice Sets the referral budget left to `newBudget`: the most that bonuses may pay from now on.
    ///
    /// Requirements: the caller is the owner (governance).
    function setReferralBudget(uint256 newBudget) external onlyOwner {
        uint256 oldBudget = _referralBudget;
        _referralBudget = newBudget;
        emit ReferralBudgetChanged(oldBudget, newBudget);
    }

    /// @notice Sends `amount` of the token held here back to `to` (e.g. the treasury).
    ///
    /// Requirements: the caller is the owner (governance); `to` is non-zero.
    function recoverTokens(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert MembershipZeroAddress();
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
        if (referrer != address(0)) _referrerOf[account] = referrer;
        emit MemberAdded(account, referrer);
    }

    /// @dev Pays the bonus only if both the budget left and the balance cover it (effects before the
    /// transfer).
    function _payReferral(address referrer, address invitee) internal virtual {
        uint256 bonus = _referralBonus;
        if (bonus == 0) return;
        uint256 budget = _referralBudget;
        if (bonus > budget || bonus > _token.balanceOf(address(this))) {
            emit ReferralBonusUnpaid(referrer, invitee, bonus, budget);
            return;
        }
        // bonus <= budget was checked just above
        unchecked {
            _referralBudget = budget - bonus;
        }
        _referralsPaid += bonus;
        emit ReferralBonusPaid(referrer, invitee, bonus);
        _token.safeTransfer(referrer, bonus);
    }

    function _setReferralTerms(uint256 bonus, uint32 invitesPerMember_) internal virtual {
        _referralBonus = bonus;
        _invitesPerMember = invitesPerMember_;
        emit ReferralTermsChanged(bonus, invitesPerMember_);
    }
}
