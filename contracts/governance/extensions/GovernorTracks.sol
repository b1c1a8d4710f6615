// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {IGovernorTracks} from "./IGovernorRules.sol";
import {GovernorRulesHost} from "./GovernorRulesHost.sol";
import {GovernorRulesModule} from "./GovernorRulesModule.sol";
import {GovernorRulesStorage} from "./GovernorRulesStorage.sol";

/// @title GovernorTracks
/// @notice Extension of {Governor} with two decision tracks, assigned on-chain when a proposal is made by
/// decoding its calls:
///
/// - **Routine**: every call is a whitelisted (target, selector) parameter change, sends no ETH, and each
///   of its static 32-byte arguments lies within the bounds stored here for that selector. Routine
///   proposals vote for {routineVotingPeriod} and need {routineQuorumNumerator} percent of the supply.
/// - **Major**: everything else (treasury spends, oracle node set and quorum, model approval, role
///   changes, guardian replacement, changes of these bounds or track settings). Major proposals use the
///   {GovernorSettings} voting period and the {GovernorVotesQuorumFraction} quorum.
///
/// Both tracks decide by simple majority (more For than Against). A rule can never target this governor
/// or its executor, so the bounds and track settings (all `onlyGovernance`) change only on the major
/// track. The voting period of a routine proposal is fixed when it is proposed, and shows in the standard
/// {ProposalCreated} event (`voteEnd`), so unmodified front ends display the right deadline.
///
/// The governance-only setters and {routineRule} run in the governor's {GovernorRulesModule} (by
/// delegatecall, see {GovernorRulesHost}); proposal classification and quorum stay in the governor.
abstract contract GovernorTracks is IGovernorTracks, GovernorSettings, GovernorVotesQuorumFraction, GovernorRulesHost {
    using TransientSlot for *;

    // keccak256(abi.encode(uint256(keccak256("verdict.storage.GovernorTracks.proposingRoutine")) - 1)) & ~0xff
    bytes32 private constant _PROPOSING_ROUTINE_SLOT =
        0xc5fd8ae5261cd0bf3b83c0fa66783495ac635298570727d799457a0763a56300;

    /// @param initialRoutineVotingPeriod voting period of routine proposals (seconds or blocks, the
    /// token's clock); at most the major voting period
    /// @param initialRoutineQuorumNumerator routine quorum, over {quorumDenominator}; at most the major one
    constructor(uint32 initialRoutineVotingPeriod, uint256 initialRoutineQuorumNumerator) {
        _delegateToRulesModule(
            abi.encodeCall(
                GovernorRulesModule.initTracks,
                (initialRoutineVotingPeriod, initialRoutineQuorumNumerator, super.votingPeriod(), quorumNumerator())
            )
        );
    }

    /*//////////////////////////////////////////////////////////////
                         GOVERNANCE-ONLY SETTERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Whitelists calls of `selector` on `target` for the routine track, each argument within
    /// `bounds`. Replaces an existing rule for the pair.
    ///
    /// Requirements:
    /// - called by governance (a major proposal: this governor is never a rule target);
    /// - `target` is neither this governor nor its executor, nor address(0);
    /// - `min <= max` for every bound.
    ///
    /// Emits {RoutineRuleSet}.
    function setRoutineRule(address, bytes4, ParamBound[] calldata) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /// @notice Removes the routine rule for (`target`, `selector`): such calls become major.
    ///
    /// Requirements: called by governance; the rule exists.
    ///
    /// Emits {RoutineRuleRemoved}.
    function removeRoutineRule(address, bytes4) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /// @notice Sets the voting period of routine proposals made from now on.
    ///
    /// Requirements: called by governance; 0 < `newPeriod` <= {votingPeriod} (the major period).
    ///
    /// Emits {RoutineVotingPeriodSet}.
    function setRoutineVotingPeriod(uint32) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /// @notice Sets the quorum numerator of routine proposals made from now on.
    ///
    /// Requirements: called by governance; `newNumerator` <= {quorumNumerator} (the major one).
    ///
    /// Emits {RoutineQuorumNumeratorSet}.
    function setRoutineQuorumNumerator(uint256) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The track a proposal with these calls would be assigned.
    function classify(address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
        public
        view
        virtual
        returns (Track)
    {
        uint256 n = targets.length;
        if (n == 0 || values.length != n || calldatas.length != n) return Track.Major;
        for (uint256 i = 0; i < n; ++i) {
            if (values[i] != 0 || !_isRoutineCall(targets[i], calldatas[i])) return Track.Major;
        }
        return Track.Routine;
    }

    /// @notice The track of `proposalId` (Major for unknown ids).
    function proposalTrack(uint256 proposalId) public view virtual returns (Track) {
        return GovernorRulesStorage.layout().proposalTracks[proposalId].track;
    }

    /// @notice The quorum `proposalId` must reach, by its track, at its snapshot.
    function proposalQuorum(uint256 proposalId) public view virtual returns (uint256) {
        GovernorRulesStorage.ProposalTrack memory info = GovernorRulesStorage.layout().proposalTracks[proposalId];
        uint256 snapshot = proposalSnapshot(proposalId);
        if (info.track == Track.Routine) {
            return Math.mulDiv(token().getPastTotalSupply(snapshot), info.quorumNumerator, quorumDenominator());
        }
        return quorum(snapshot);
    }

    /// @notice The routine rule for (`target`, `selector`).
    function routineRule(address, bytes4) external view virtual returns (bool exists, ParamBound[] memory bounds) {
        _forwardToRulesModuleView(); // returns the module's answer; the names only document it
        (exists, bounds);
    }

    function routineVotingPeriod() public view virtual returns (uint256) {
        return GovernorRulesStorage.layout().routineVotingPeriod;
    }

    function routineQuorumNumerator() public view virtual returns (uint256) {
        return GovernorRulesStorage.layout().routineQuorumNumerator;
    }

    /// @notice The major voting period, except while a routine proposal is being created, when it is the
    /// routine one: {Governor-_propose} stores and announces the period it reads here.
    function votingPeriod() public view virtual override(Governor, GovernorSettings) returns (uint256) {
        if (_PROPOSING_ROUTINE_SLOT.asBoolean().tload()) return routineVotingPeriod();
        return super.votingPeriod();
    }

    function proposalThreshold() public view virtual override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Classifies the proposal, creates it with its track's voting period and records the track.
    /// Emits {ProposalTrackAssigned} after {ProposalCreated}.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        Track track = classify(targets, values, calldatas);
        if (track == Track.Routine) {
            _PROPOSING_ROUTINE_SLOT.asBoolean().tstore(true);
            proposalId = super._propose(targets, values, calldatas, description, proposer);
            _PROPOSING_ROUTINE_SLOT.asBoolean().tstore(false);
            GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
            $.proposalTracks[proposalId] =
                GovernorRulesStorage.ProposalTrack(Track.Routine, uint248($.routineQuorumNumerator));
        } else {
            proposalId = super._propose(targets, values, calldatas, description, proposer);
        }
        emit ProposalTrackAssigned(proposalId, track);
    }

    /// @dev Whether one call (with no ETH) fits a routine rule: known (target, selector), exactly one
    /// 32-byte word per bound, each word within its bound.
    function _isRoutineCall(address target, bytes memory data) internal view virtual returns (bool) {
        if (data.length < 4) return false;
        GovernorRulesStorage.StoredRule storage rule = GovernorRulesStorage.layout().rules[target][bytes4(data)];
        if (!rule.exists) return false;
        uint256 n = rule.bounds.length;
        if (data.length != 4 + 32 * n) return false;
        for (uint256 j = 0; j < n; ++j) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(data, 36), mul(j, 32)))
            }
            ParamBound storage bound = rule.bounds[j];
            if (word < bound.min || word > bound.max) return false;
        }
        return true;
    }
}
