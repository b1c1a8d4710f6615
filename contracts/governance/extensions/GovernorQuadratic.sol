// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IMembership} from "../IMembership.sol";

/// @title GovernorQuadratic
/// @notice Extension of {GovernorCountingSimple}: quadratic voting among registered members for proposals
/// flagged so. A proposal is flagged when its description ends with `#quadratic` (optionally followed by
/// OpenZeppelin's `#proposer=0x...` suffix); the flag is part of the description, hence of the proposal
/// id, so nobody can submit the same calls with a different flag under the same id.
///
/// On a flagged proposal a voter's weight is `floor(sqrt(votes))` of their delegated votes at the
/// snapshot if they were a member at the snapshot ({IMembership-wasMemberAt}), and 0 otherwise. The
/// outcome compares these weights; the quorum is measured on the raw votes of the members who voted For or
/// Abstain (see {quorumParticipation}), so a quadratic proposal needs as much real participation as any.
/// Unflagged proposals count raw votes as {GovernorCountingSimple} does.
abstract contract GovernorQuadratic is GovernorCountingSimple {
    /*//////////////////////////////////////////////////////////////
                             EVENTS / ERRORS
    //////////////////////////////////////////////////////////////*/

    event ProposalMarkedQuadratic(uint256 indexed proposalId);
    event MembershipSet(address oldMembership, address newMembership);

    error GovernorQuadraticInvalidMembership(address membership);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    IMembership private _membership;
    mapping(uint256 proposalId => bool) private _quadratic;
    mapping(uint256 proposalId => uint256) private _memberParticipation;

    constructor(IMembership membership_) {
        _setMembership(membership_);
    }

    /*//////////////////////////////////////////////////////////////
                         GOVERNANCE-ONLY SETTERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Points quadratic weighting at another membership registry.
    ///
    /// Requirements: called by governance (a major proposal); `newMembership` has code.
    ///
    /// Emits {MembershipSet}.
    function setMembership(IMembership newMembership) public virtual onlyGovernance {
        _setMembership(newMembership);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The membership registry read for quadratic weight.
    function membership() public view virtual returns (IMembership) {
        return _membership;
    }

    /// @notice Whether `proposalId` is counted quadratically.
    function isQuadratic(uint256 proposalId) public view virtual returns (bool) {
        return _quadratic[proposalId];
    }

    /// @notice The weight `account` would have on a quadratic proposal with snapshot `timepoint`.
    /// Requirements: `timepoint` is in the past.
    function quadraticWeight(address account, uint256 timepoint) public view virtual returns (uint256) {
        if (!_membership.wasMemberAt(account, timepoint)) return 0;
        return Math.sqrt(getVotes(account, timepoint));
    }

    /// @notice The votes counted toward the quorum of `proposalId`: For + Abstain votes, or for a
    /// quadratic proposal the raw (not square-rooted) For + Abstain votes of members.
    function quorumParticipation(uint256 proposalId) public view virtual returns (uint256) {
        if (_quadratic[proposalId]) return _memberParticipation[proposalId];
        (, uint256 forVotes, uint256 abstainVotes) = proposalVotes(proposalId);
        return forVotes + abstainVotes;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Records the quadratic flag of a new proposal. Emits {ProposalMarkedQuadratic} when set.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        if (_hasQuadraticMarker(description)) {
            _quadratic[proposalId] = true;
            emit ProposalMarkedQuadratic(proposalId);
        }
    }

    /// @dev On a quadratic proposal, replaces the raw weight by floor(sqrt) for members and 0 for others,
    /// and accumulates members' raw For/Abstain weight for the quorum.
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        virtual
        override
        returns (uint256)
    {
        if (!_quadratic[proposalId]) return super._countVote(proposalId, account, support, totalWeight, params);

        uint256 weight = 0;
        if (_membership.wasMemberAt(account, proposalSnapshot(proposalId))) {
            weight = Math.sqrt(totalWeight);
            if (support == uint8(VoteType.For) || support == uint8(VoteType.Abstain)) {
                _memberParticipation[proposalId] += totalWeight;
            }
        }
        return super._countVote(proposalId, account, support, weight, params);
    }

    /// @dev Whether `description` ends with `#quadratic`, or with `#quadratic#proposer=0x<40 hex digits>`.
    function _hasQuadraticMarker(string memory description) internal pure virtual returns (bool) {
        bytes memory text = bytes(description);
        uint256 end = text.length;
        if (end >= 52 && bytes10(_readWord(text, end - 52)) == bytes10("#proposer=")) end -= 52;
        if (end < 10) return false;
        return bytes10(_readWord(text, end - 10)) == bytes10("#quadratic");
    }

    function _setMembership(IMembership newMembership) internal virtual {
        if (address(newMembership).code.length == 0) revert GovernorQuadraticInvalidMembership(address(newMembership));
        emit MembershipSet(address(_membership), address(newMembership));
        _membership = newMembership;
    }

    /// @dev Reads 32 bytes of `buffer` at `offset`; callers only compare the leading bytes that lie
    /// within the buffer (`offset` + 10 <= length).
    function _readWord(bytes memory buffer, uint256 offset) private pure returns (bytes32 value) {
        assembly ("memory-safe") {
            value := mload(add(add(buffer, 0x20), offset))
        }
    }
}
