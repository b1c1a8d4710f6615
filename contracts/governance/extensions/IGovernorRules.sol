// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IGovernorTracks
/// @notice Types, events and errors of {GovernorTracks}, shared with {GovernorRulesModule} (which runs the
/// track setters and rule views in the governor's context).
interface IGovernorTracks {
    /// @dev Major is 0, so any proposal without a stored track is Major.
    enum Track {
        Major,
        Routine
    }

    /// @notice Inclusive bounds of one static 32-byte argument, compared as uint256.
    struct ParamBound {
        uint256 min;
        uint256 max;
    }

    /// @notice A whitelisted parameter change: a call of `selector` on `target` whose arguments each lie
    /// within `bounds` (one entry per argument, in order).
    struct RoutineRule {
        address target;
        bytes4 selector;
        ParamBound[] bounds;
    }

    event ProposalTrackAssigned(uint256 indexed proposalId, Track track);
    event RoutineRuleSet(address indexed target, bytes4 indexed selector, ParamBound[] bounds);
    event RoutineRuleRemoved(address indexed target, bytes4 indexed selector);
    event RoutineVotingPeriodSet(uint256 oldVotingPeriod, uint256 newVotingPeriod);
    event RoutineQuorumNumeratorSet(uint256 oldQuorumNumerator, uint256 newQuorumNumerator);

    error GovernorTracksInvalidRuleTarget(address target);
    error GovernorTracksInvalidBounds(uint256 index, uint256 min, uint256 max);
    error GovernorTracksUnknownRule(address target, bytes4 selector);
    error GovernorTracksInvalidRoutineVotingPeriod(uint256 routineVotingPeriod, uint256 votingPeriod);
    error GovernorTracksInvalidRoutineQuorum(uint256 routineQuorumNumerator, uint256 quorumNumerator);
}

/// @title IGovernorQuadratic
/// @notice Types, events and errors of {GovernorQuadratic}, shared with {GovernorRulesModule}.
interface IGovernorQuadratic {
    /// @notice A (target, selector) pair allowed in quadratic proposals.
    struct QuadraticCall {
        address target;
        bytes4 selector;
    }

    event ProposalMarkedQuadratic(uint256 indexed proposalId);
    event MembershipSet(address oldMembership, address newMembership);
    event QuadraticCallSet(address indexed target, bytes4 indexed selector, bool allowed);

    error GovernorQuadraticInvalidMembership(address membership);
    error GovernorQuadraticNotAllowed(address target, bytes4 selector);
    error GovernorQuadraticInvalidTarget(address target);
}
