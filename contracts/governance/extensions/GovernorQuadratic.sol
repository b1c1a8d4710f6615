// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {IMembership} from "../IMembership.sol";
import {IGovernorQuadratic} from "./IGovernorRules.sol";
import {GovernorRulesHost} from "./GovernorRulesHost.sol";
import {GovernorRulesModule} from "./GovernorRulesModule.sol";
import {GovernorRulesStorage} from "./GovernorRulesStorage.sol";

/// @title GovernorQuadratic
/// @notice Extension of {GovernorCountingSimple}: quadratic voting among registered members, on proposals
/// flagged so **and made only of calls the DAO listed for it**.
///
/// A proposal is flagged when its description ends with `#quadratic` (optionally followed by
/// OpenZeppelin's `#proposer=0x...` suffix); the flag is part of the description, hence of the proposal
/// id. A flagged proposal is accepted only if every call sends no ETH and its (target, selector) is on
/// the DAO's quadratic list ({setQuadraticCall}; {_isQuadraticCall} may narrow it further), otherwise
/// `propose` reverts with {GovernorQuadraticNotAllowed}: the proposer cannot pick the counting rule of
/// a treasury spend, a role, oracle or model change. The list never holds this governor or its executor,
/// so changing it is always counted by tokens.
///
/// On a quadratic proposal only members at the snapshot ({IMembership-wasMemberAt}) weigh, with their
/// delegated votes at the snapshot. Members are grouped by invite tree ({IMembership-inviteRootOf}: the
/// founding or governance-admitted member an invitation chain starts from), and each tree votes as one
/// voter per side: its weight for a side is `floor(sqrt(sum of its members' votes on that side))`,
/// added vote by vote (each ballot adds `sqrt(S + v) - sqrt(S)`). Splitting tokens across invitees
/// therefore weighs exactly what one holder of them weighs. The quorum is measured on the raw votes of
/// the members who voted For or Abstain (see {quorumParticipation}). Unflagged proposals count raw votes
/// as {GovernorCountingSimple} does.
///
/// The governance-only setters, {quadraticWeight} and {treeVotes} run in the governor's
/// {GovernorRulesModule} (by delegatecall, see {GovernorRulesHost}); counting stays in the governor.
abstract contract GovernorQuadratic is IGovernorQuadratic, GovernorCountingSimple, GovernorRulesHost {
    constructor(IMembership membership_) {
        _delegateToRulesModule(abi.encodeCall(GovernorRulesModule.initMembership, (membership_)));
    }

    /*//////////////////////////////////////////////////////////////
                         GOVERNANCE-ONLY SETTERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Points quadratic weighting at another membership registry.
    ///
    /// Requirements: called by governance (a major proposal); `newMembership` has code and implements
    /// {IMembership} in full (quadratic ballots read {IMembership-inviteRootOf}).
    ///
    /// Emits {MembershipSet}.
    function setMembership(IMembership) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /// @notice Allows (or stops allowing) calls of `selector` on `target` in quadratic proposals.
    ///
    /// Requirements:
    /// - called by governance (a proposal counted by tokens: this governor is never on the list);
    /// - when allowing, `target` is neither address(0), this governor nor its executor.
    ///
    /// Emits {QuadraticCallSet}.
    function setQuadraticCall(address, bytes4, bool) external virtual onlyGovernance {
        _forwardToRulesModule();
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The membership registry read for quadratic weight.
    function membership() public view virtual returns (IMembership) {
        return GovernorRulesStorage.layout().membership;
    }

    /// @notice Whether `proposalId` is counted quadratically.
    function isQuadratic(uint256 proposalId) public view virtual returns (bool) {
        return GovernorRulesStorage.layout().quadratic[proposalId];
    }

    /// @notice Whether calls of `selector` on `target` are on the DAO's quadratic list.
    function isQuadraticCall(address target, bytes4 selector) public view virtual returns (bool) {
        return GovernorRulesStorage.layout().quadraticCalls[target][selector];
    }

    /// @notice Whether a proposal of these calls may be flagged `#quadratic` (see {_isQuadraticCall}).
    function quadraticAllowed(address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
        public
        view
        virtual
        returns (bool)
    {
        return _firstDisallowedCall(targets, values, calldatas) == type(uint256).max;
    }

    /// @notice The weight `account` would have alone (its invite tree casting no other vote) on a
    /// quadratic proposal with snapshot `timepoint`.
    /// Requirements: `timepoint` is in the past.
    function quadraticWeight(address, uint256) external view virtual returns (uint256 weight) {
        _forwardToRulesModuleView(); // returns the module's answer; the name only documents it
        weight;
    }

    /// @notice The raw votes cast on side `support` of quadratic proposal `proposalId` by the invite tree
    /// rooted at `root`.
    function treeVotes(uint256, address, uint8) external view virtual returns (uint256 votes) {
        _forwardToRulesModuleView(); // returns the module's answer; the name only documents it
        votes;
    }

    /// @notice The votes counted toward the quorum of `proposalId`: For + Abstain votes, or for a
    /// quadratic proposal the raw (not square-rooted) For + Abstain votes of members.
    function quorumParticipation(uint256 proposalId) public view virtual returns (uint256) {
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        if ($.quadratic[proposalId]) return $.memberParticipation[proposalId];
        (, uint256 forVotes, uint256 abstainVotes) = proposalVotes(proposalId);
        return forVotes + abstainVotes;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Records the quadratic flag of a new proposal, after checking that every call may be counted
    /// quadratically. Emits {ProposalMarkedQuadratic} when set.
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal virtual override returns (uint256 proposalId) {
        bool quadratic = _hasQuadraticMarker(description);
        if (quadratic) {
            uint256 bad = _firstDisallowedCall(targets, values, calldatas);
            if (bad != type(uint256).max) {
                bytes memory data = bad < calldatas.length ? calldatas[bad] : bytes("");
                revert GovernorQuadraticNotAllowed(bad < targets.length ? targets[bad] : address(0), bytes4(data));
            }
        }
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        if (quadratic) {
            GovernorRulesStorage.layout().quadratic[proposalId] = true;
            emit ProposalMarkedQuadratic(proposalId);
        }
    }

    /// @dev Whether one call may be part of a quadratic proposal: it sends no ETH and its (target,
    /// selector) is listed. Override to narrow the rule (e.g. to bounded arguments).
    function _isQuadraticCall(address target, uint256 value, bytes memory data) internal view virtual returns (bool) {
        return value == 0 && data.length >= 4 && GovernorRulesStorage.layout().quadraticCalls[target][bytes4(data)];
    }

    /// @dev On a quadratic proposal, a member's ballot adds to its invite tree's raw votes on that side and
    /// counts the growth of the tree's square root; non-members weigh 0. Members' raw For/Abstain votes
    /// accumulate for the quorum ({GovernorRulesModule-countQuadraticVote}).
    function _countVote(uint256 proposalId, address account, uint8 support, uint256 totalWeight, bytes memory params)
        internal
        virtual
        override
        returns (uint256)
    {
        GovernorRulesStorage.Layout storage $ = GovernorRulesStorage.layout();
        if (!$.quadratic[proposalId]) return super._countVote(proposalId, account, support, totalWeight, params);

        bytes memory weight = _delegateToRulesModule(
            abi.encodeCall(
                GovernorRulesModule.countQuadraticVote,
                (proposalId, account, support, totalWeight, proposalSnapshot(proposalId))
            )
        );
        return super._countVote(proposalId, account, support, abi.decode(weight, (uint256)), params);
    }

    /// @dev Whether `description` ends with `#quadratic`, or with `#quadratic#proposer=0x<40 hex digits>`.
    function _hasQuadraticMarker(string memory description) internal pure virtual returns (bool) {
        bytes memory text = bytes(description);
        uint256 end = text.length;
        if (end >= 52 && bytes10(_readWord(text, end - 52)) == bytes10("#proposer=")) end -= 52;
        if (end < 10) return false;
        return bytes10(_readWord(text, end - 10)) == bytes10("#quadratic");
    }

    /// @dev The index of the first call that may not be counted quadratically, or type(uint256).max if
    /// none (an empty or malformed proposal is reported at index 0).
    function _firstDisallowedCall(address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
        private
        view
        returns (uint256)
    {
        uint256 n = targets.length;
        if (n == 0 || values.length != n || calldatas.length != n) return 0;
        for (uint256 i = 0; i < n; ++i) {
            if (!_isQuadraticCall(targets[i], values[i], calldatas[i])) return i;
        }
        return type(uint256).max;
    }

    /// @dev Reads 32 bytes of `buffer` at `offset`; callers only compare the leading bytes that lie
    /// within the buffer (`offset` + 10 <= length).
    function _readWord(bytes memory buffer, uint256 offset) private pure returns (bytes32 value) {
        assembly ("memory-safe") {
            value := mload(add(add(buffer, 0x20), offset))
        }
    }
}
