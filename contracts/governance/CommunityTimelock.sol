// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title CommunityTimelock
/// @notice OpenZeppelin's TimelockController, unchanged, made deployable from this project. It is the
/// governance executor: it holds the treasury (ETH and tokens) and DEFAULT_ADMIN_ROLE of every policy
/// contract. The CommunityGovernor is its only proposer and canceller and its only executor, and the
/// timelock administers itself (no admin account), so nothing moves without an executed proposal.
contract CommunityTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
