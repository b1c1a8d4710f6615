// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IGovernorTracks, IGovernorQuadratic} from "./IGovernorRules.sol";
import {GovernorRulesStorage} from "./GovernorRulesStorage.sol";
import {IMembership} from "../IMembership.sol";

/// @dev What the module reads back from the governor it runs in (external self-calls, runtime only).
interface IGovernorRulesHost {
    function timelock() external view returns (address);
    function votingPeriod() external view returns (uint256);
    function quorumNumerator() external view returns (uint256);
    function getVotes(address account, uint256 timepoint) external view returns (uint256);
}

/// @title GovernorRulesModule
/// @notice The rarely used half of {GovernorTracks} and {GovernorQuadratic}: their governance-only setters
/// and the rule views, moved out of the governor's bytecode (EIP-170 caps it at 24,576 bytes). Each
/// governor deploys its own module in its constructor ({GovernorRulesHost}) and **delegatecalls** it, so
/// the code runs in the governor's context: `address(this)` is the governor, events are the governor's,
/// and state lives in the governor's {GovernorRulesStorage} namespace.
///
/// Access control stays in the governor: its entry points are `onlyGovernance` and forward their own
/// calldata here unchanged. Called directly, the mutating functions revert
/// ({GovernorRulesModuleDirectCall}); the views read the module's own, empty, storage.
contract GovernorRulesModule is IGovernorTracks, IGovernorQuadratic {
    address private immutable _self = address(this);

    error GovernorRulesModuleDirectCall();

    modifier onlyDelegated() {
        if (address(this) == _self) revert GovernorRulesModuleDirectCall();
        _;
    }

    /*//////////////////////////////////////////////////////////////
                    CONSTRUCTOR-TIME INITIALISATION
    //////////////////////////////////////////////////////////////*/

    /// @notice Sets the routine track's settings from the governor's constructor (no self-calls then: the
    /// governor has no code yet, so the major settings come as arguments).
    /// Requirements: delegatecalled; 0 < `routinePeriod` <= `majorPeriod`; `routineQuorum` <= `majorQuorum`.
    function initTracks(uint32 routinePeriod, uint256 routineQuorum, uint256 majorPeriod, uint256 majorQuorum)
        external
        onlyDelegated
    {
        _setRoutineVotingPeriod(routinePeriod, majorPeriod);
        _setRoutineQuorumNumerator(routineQuorum, majorQuorum);
    }

    /// @notice Sets the membership registry from the governor's constructor.
    /// Requirements: delegatecalled; `membership_` has code.
    function initMembership(IMembership membership_) external onlyDelegated {
        _setMembership(membership_);
    }

    /// @notice Stores the initial routine rules and quadratic list from the governor's constructor.
    /// Requirements: delegatecalled; no rule or listed call targets address(0), the governor or `executor`;
    /// `min <= max` for every bound.
    function initLists(RoutineRule[] calldata routineRules, QuadraticCall[] calldata quadraticCalls, address executor)
        external
        onlyDelegated
    {
        for (uint256 i = 0; i < routineRules.length; ++i) {
            _setRoutineRule(routineRules[i].target, routineRules[i].selector, routineRules[i].bounds, executor);
        }
        for (uint256 i = 0; i < quadraticCalls.length; ++i) {
            _setQuadraticCall(quadraticCalls[i].target, quadraticCalls[i].selector, true, executor);
        }
    }

    /*//////////////////////////////////////////////////////////////
                 SETTERS (the governor checked onlyGovernance)
    //////////////////////////////////////////////////////////////*/

    /// @notice See {GovernorTracks-setRoutineRule}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check.
    function setRoutineRule(address target, bytes4 selector, ParamBound[] calldata bounds) external onlyDelegated {
        _setRoutineRule(target, selector, bounds, _host().timelock());
    }

    /// @notice See {GovernorTracks-removeRoutineRule}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check; the rule exists.
    function removeRoutineRule(address target, bytes4 selector) external onlyDelegated {
        mapping(address => mapping(bytes4 => GovernorRulesStorage.StoredRule)) storage rules =
            GovernorRulesStorage.layout().rules;
        if (!rules[target][selector].exists) revert GovernorTracksUnknownRule(target, selector);
        delete rules[target][selector];
        emit RoutineRuleRemoved(target, selector);
    }

    /// @notice See {GovernorTracks-setRoutineVotingPeriod}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check.
    function setRoutineVotingPeriod(uint32 newPeriod) external onlyDelegated {
        _setRoutineVotingPeriod(newPeriod, _host().votingPeriod());
    }

    /// @notice See {GovernorTracks-setRoutineQuorumNumerator}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check.
    function setRoutineQuorumNumerator(uint256 newNumerator) external onlyDelegated {
        _setRoutineQuorumNumerator(newNumerator, _host().quorumNumerator());
    }

    /// @notice See {GovernorQuadratic-setMembership}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check.
    function setMembership(IMembership newMembership) external onlyDelegated {
        _setMembership(newMembership);
    }

    /// @notice See {GovernorQuadratic-setQuadraticCall}.
    /// Requirements: delegatecalled by the governor after its `onlyGovernance` check.
    function setQuadraticCall(address target, bytes4 selector, bool allowed) external onlyDelegated {
        _setQuadraticCall(target, selector, allowed, _host().timelock());
    }

    /// @notice Counts a ballot on a quadratic proposal (see {GovernorQuadratic}): a member's `totalWeight`
    /// raw votes add to its invite tree's votes on side `support`, and the ballot weighs the growth of the
    /// tree's square root; a non-member at `snapshot` weighs 0. Members' For and Abstain votes add to the
    /// proposal's quorum participation.
    /// Requirements: delegatecalled by the governor's vote counting.
    /// @return weight the ballot's quadratic weight
    function countQuadraticVote(
        uint256 proposalId,
        address account,
        uint8 support,
        uint256 totalWeight,
        uint256 snapshot
    ) external onlyDelegated returns (uint256 weight) {
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        IMembership registry = $.membership;
        // support: 0 Against, 1 For, 2 Abstain ({GovernorCountingSimple-VoteType}).
        if (support > 2 || !registry.wasMemberAt(account, snapshot)) return 0;
        uint256[3] storage tree = $.treeVotes[proposalId][registry.inviteRootOf(account)];
        uint256 before = tree[support];
        uint256 sum = before + totalWeight;
        tree[support] = sum;
        weight = Math.sqrt(sum) - Math.sqrt(before);
        if (support != 0) $.memberParticipation[proposalId] += totalWeight;
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice See {GovernorTracks-routineRule}.
    function routineRule(address target, bytes4 selector)
        external
        view
        returns (bool exists, ParamBound[] memory bounds)
    {
        GovernorRulesStorage.StoredRule storage rule = GovernorRulesStorage.layout().rules[target][selector];
        return (rule.exists, rule.bounds);
    }

    /// @notice See {GovernorQuadratic-quadraticWeight}.
    function quadraticWeight(address account, uint256 timepoint) external view returns (uint256) {
        if (!GovernorRulesStorage.layout().membership.wasMemberAt(account, timepoint)) return 0;
        return Math.sqrt(_host().getVotes(account, timepoint));
    }

    /// @notice See {GovernorQuadratic-treeVotes}.
    function treeVotes(uint256 proposalId, address root, uint8 support) external view returns (uint256) {
        return GovernorRulesStorage.layout().treeVotes[proposalId][root][support];
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _host() private view returns (IGovernorRulesHost) {
        return IGovernorRulesHost(address(this));
    }

    function _setRoutineRule(address target, bytes4 selector, ParamBound[] calldata bounds, address executor)
        private
    {
        if (target == address(0) || target == address(this) || target == executor) {
            revert GovernorTracksInvalidRuleTarget(target);
        }
        GovernorRulesStorage.StoredRule storage rule = GovernorRulesStorage.layout().rules[target][selector];
        delete rule.bounds;
        rule.exists = true;
        for (uint256 j = 0; j < bounds.length; ++j) {
            if (bounds[j].min > bounds[j].max) revert GovernorTracksInvalidBounds(j, bounds[j].min, bounds[j].max);
            rule.bounds.push(bounds[j]);
        }
        emit RoutineRuleSet(target, selector, bounds);
    }

    function _setRoutineVotingPeriod(uint32 newPeriod, uint256 majorPeriod) private {
        if (newPeriod == 0 || newPeriod > majorPeriod) {
            revert GovernorTracksInvalidRoutineVotingPeriod(newPeriod, majorPeriod);
        }
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        emit RoutineVotingPeriodSet($.routineVotingPeriod, newPeriod);
        $.routineVotingPeriod = newPeriod;
    }

    function _setRoutineQuorumNumerator(uint256 newNumerator, uint256 majorNumerator) private {
        if (newNumerator > majorNumerator) revert GovernorTracksInvalidRoutineQuorum(newNumerator, majorNumerator);
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        emit RoutineQuorumNumeratorSet($.routineQuorumNumerator, newNumerator);
        $.routineQuorumNumerator = newNumerator;
    }

    function _setMembership(IMembership newMembership) private {
        if (address(newMembership).code.length == 0) revert GovernorQuadraticInvalidMembership(address(newMembership));
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        address oldMembership = address($.membership);
        $.membership = newMembership;
        emit MembershipSet(oldMembership, address(newMembership));
    }

    function _setQuadraticCall(address target, bytes4 selector, bool allowed, address executor) private {
        if (allowed && (target == address(0) || target == address(this) || target == executor)) {
            revert GovernorQuadraticInvalidTarget(target);
        }
        GovernorRulesStorage.layout().quadraticCalls[target][selector] = allowed;
        emit QuadraticCallSet(target, selector, allowed);
    }
}
