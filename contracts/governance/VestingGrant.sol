// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";

/// @title VestingGrant
/// @notice OpenZeppelin's VestingWallet, unchanged, made deployable from this project: founders'
/// allocations and streaming treasury grants. The beneficiary owns the wallet; ETH and tokens sent to
/// it vest linearly from `startTimestamp` over `durationSeconds` and are claimed with `release`.
/// Tokens held here cannot be delegated, so unvested tokens carry no votes.
contract VestingGrant is VestingWallet {
    constructor(address beneficiary, uint64 startTimestamp, uint64 durationSeconds)
        payable
        VestingWallet(beneficiary, startTimestamp, durationSeconds)
    {}
}
