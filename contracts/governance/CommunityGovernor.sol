// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor, Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorPreventLateQuorum} from
    "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {GovernorProposalGuardian} from
    "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {GovernorNoncesKeyed} from "@openzeppelin/contracts/governance/extensions/GovernorNoncesKeyed.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {GovernorTracks} from "./extensions/GovernorTracks.sol";
import {GovernorQuadratic} from "./extensions/GovernorQuadratic.sol";
import {GovernorRulesModule} from "./extensions/GovernorRulesModule.sol";
import {IMembership} from "./IMembership.sol";

/// @title CommunityGovernor
/// @notice The Verdict community's governor: the standard OpenZeppelin Governor (propose, castVote,
/// castVoteBySig, queue, execute, cancel and their events, so existing governance front ends drive it)
/// with a proposal threshold, a quorum fraction, a timelock ({TimelockController} holds the treasury and
/// every policy role), late-quorum protection, a proposal guardian that may cancel any live proposal, two
/// decision tracks ({GovernorTracks}) and quadratic voting among members ({GovernorQuadratic}) on flagged
/// proposals whose every call is on the DAO's quadratic list **and** fits a routine rule's bounds: quadratic
/// counting is for bounded, listed parameter changes, never for treasury, role, oracle, model, membership or
/// governance changes.
///
/// The clock is the token's (timestamps for {CommunityToken}): every period is in seconds.
contract CommunityGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorPreventLateQuorum,
    GovernorProposalGuardian,
    GovernorTracks,
    GovernorQuadratic,
    GovernorNoncesKeyed
{
    /// @notice Construction parameters (one struct keeps the constructor readable).
    /// @param name the governor's name, also its EIP-712 domain name for castVoteBySig
    /// @param votingDelay seconds from proposal to snapshot / start of voting
    /// @param votingPeriod major track voting period (seconds)
    /// @param routineVotingPeriod routine track voting period (seconds), <= votingPeriod
    /// @param proposalThreshold votes needed to propose
    /// @param quorumNumerator major track quorum, percent of supply at the snapshot
    /// @param routineQuorumNumerator routine track quorum, percent, <= quorumNumerator
    /// @param lateQuorumExtension minimum voting time left after quorum is reached (seconds)
    /// @param guardian the proposal guardian (may cancel; nothing else)
    struct Config {
        string name;
        uint48 votingDelay;
        uint32 votingPeriod;
        uint32 routineVotingPeriod;
        uint256 proposalThreshold;
        uint256 quorumNumerator;
        uint256 routineQuorumNumerator;
        uint48 lateQuorumExtension;
        address guardian;
    }

    /// @param token_ the votes token (CommunityToken)
    /// @param timelock_ the executor and treasury; this governor needs its PROPOSER and CANCELLER roles
    /// @param membership_ the member registry for quadratic weight
    /// @param config see {Config}
    /// @param routineRules the initial routine whitelist (e.g. router.setThresholds within a band)
    /// @param quadraticCalls the initial quadratic list (e.g. router.setFeeBps); each call must also fit a
    /// routine rule to be counted quadratically
    constructor(
        IVotes token_,
        TimelockController timelock_,
        IMembership membership_,
        Config memory config,
        RoutineRule[] memory routineRules,
        QuadraticCall[] memory quadraticCalls
    )
        Governor(config.name)
        GovernorSettings(config.votingDelay, config.votingPeriod, config.proposalThreshold)
        GovernorVotes(token_)
        GovernorVotesQuorumFraction(config.quorumNumerator)
        GovernorTimelockControl(timelock_)
        GovernorPreventLateQuorum(config.lateQuorumExtension)
        GovernorTracks(config.routineVotingPeriod, config.routineQuorumNumerator)
        GovernorQuadratic(membership_)
    {
        _setProposalGuardian(config.guardian);
        _delegateToRulesModule(
            abi.encodeCall(GovernorRulesModule.initLists, (routineRules, quadraticCalls, address(timelock_)))
        );
    }

    /*//////////////////////////////////////////////////////////////
                    RESOLUTION OF THE EXTENSIONS
    //////////////////////////////////////////////////////////////*/

    /// @dev A proposal reaches quorum when its participation ({GovernorQuadratic-quorumParticipation})
    /// reaches its track's quorum ({GovernorTracks-proposalQuorum}).
    function _quorumReached(uint256 proposalId)
        internal
        view
        override(Governor, GovernorCountingSimple)
        returns (bool)
    {
        return proposalQuorum(proposalId) <= quorumParticipation(proposalId);
    }

    /// @dev A call may be counted quadratically only if it is on the quadratic list
    /// ({GovernorQuadratic-_isQuadraticCall}) and fits its routine rule's bounds
    /// ({GovernorTracks-_isRoutineCall}).
    function _isQuadraticCall(address target, uint256 value, bytes memory data)
        internal
        view
        override
        returns (bool)
    {
        return super._isQuadraticCall(target, value, data) && _isRoutineCall(target, data);
    }

    function votingPeriod() public view override(Governor, GovernorSettings, GovernorTracks) returns (uint256) {
        return super.votingPeriod();
    }

    function proposalThreshold() public view override(Governor, GovernorSettings, GovernorTracks) returns (uint256) {
        return super.proposalThreshold();
    }

    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorPreventLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override(Governor, GovernorTracks, GovernorQuadratic) returns (uint256) {
        return super._propose(targets, values, calldatas, description, proposer);
    }

    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        override(Governor, GovernorCountingSimple, GovernorQuadratic)
        returns (uint256)
    {
        return super._countVote(proposalId, account, support, totalWeight, params);
    }

    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    function _validateCancel(uint256 proposalId, address caller)
        internal
        view
        override(Governor, GovernorProposalGuardian)
        returns (bool)
    {
        return super._validateCancel(proposalId, caller);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }

    function _useCheckedNonce(address owner, uint256 nonce) internal override(Nonces, GovernorNoncesKeyed) {
        super._useCheckedNonce(owner, nonce);
    }

    function _validateVoteSig(uint256 proposalId, uint8 support, address voter, bytes memory signature)
        internal
        override(Governor, GovernorNoncesKeyed)
        returns (bool)
    {
        return super._validateVoteSig(proposalId, support, voter, signature);
    }

    function _validateExtendedVoteSig(
        uint256 proposalId,
        uint8 support,
        address voter,
        string memory reason,
        bytes memory params,
        bytes memory signature
    ) internal override(Governor, GovernorNoncesKeyed) returns (bool) {
        return super._validateExtendedVoteSig(proposalId, support, voter, reason, params, signature);
    }
}
