// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IVoteRelayLike {
    function relay(bytes[] calldata calls) external returns (uint256);
}

/// @notice A hostile relayer for the VoteRelay tests: when reimbursed it tries to relay the same batch
/// again (to be paid twice) and records whether that worked.
contract ReentrantRelayer {
    IVoteRelayLike public immutable target;
    bytes[] private _calls;
    bool public reentered;
    bool public attempted;
    uint256 public received;

    constructor(IVoteRelayLike target_) {
        target = target_;
    }

    function relayThrough(bytes[] calldata calls) external {
        delete _calls;
        for (uint256 i = 0; i < calls.length; ++i) {
            _calls.push(calls[i]);
        }
        target.relay(calls);
    }

    receive() external payable {
        received += msg.value;
        if (attempted) return;
        attempted = true;
        try target.relay(_calls) {
            reentered = true;
        } catch {
            reentered = false;
        }
    }
}
