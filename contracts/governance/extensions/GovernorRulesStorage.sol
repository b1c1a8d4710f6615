// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernorTracks} from "./IGovernorRules.sol";
import {IMembership} from "../IMembership.sol";

/// @title GovernorRulesStorage
/// @notice The state of {GovernorTracks} and {GovernorQuadratic} in one namespace, so the governor and
/// {GovernorRulesModule} (delegatecalled by it) read and write the same slots whatever their inheritance.
library GovernorRulesStorage {
    struct StoredRule {
        bool exists;
        IGovernorTracks.ParamBound[] bounds;
    }

    struct ProposalTrack {
        IGovernorTracks.Track track;
        uint248 quorumNumerator; // the routine quorum numerator at proposal time
    }

    struct Layout {
        // GovernorTracks
        mapping(address target => mapping(bytes4 selector => StoredRule)) rules;
        mapping(uint256 proposalId => ProposalTrack) proposalTracks;
        uint32 routineVotingPeriod;
        uint256 routineQuorumNumerator;
        // GovernorQuadratic
        IMembership membership;
        mapping(uint256 proposalId => bool) quadratic;
        mapping(uint256 proposalId => uint256) memberParticipation;
        mapping(address target => mapping(bytes4 selector => bool)) quadraticCalls;
        mapping(uint256 proposalId => mapping(address root => uint256[3])) treeVotes;
    }

    // uint256(keccak256("verdict.storage.GovernorRules")) >> 192: the top 64 bits of the namespace hash, not
    // ERC-7201's full 256-bit slot, because the governor pushes this constant at every access and EIP-170
    // counts its bytes. Sequential state uses slots 0..~30 and hashed slots are uniformly random over 2^256,
    // so a 64-bit random slot is as collision-free.
    uint256 private constant _LOCATION = 0x665059389fe0b8dd;

    function layout() internal pure returns (Layout storage $) {
        assembly ("memory-safe") {
            $.slot := _LOCATION
        }
    }
}
