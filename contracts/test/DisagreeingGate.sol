// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGated} from "../interfaces/IRiskGated.sol";

/// @notice A gated target that reports every id as Awaiting but refuses every verdict (answers
/// Decided); for tests of the oracle's handling of a target that disagrees with itself.
contract DisagreeingGate is IRiskGated {
    function gateStatus(uint256) external pure returns (GateStatus) {
        return GateStatus.Awaiting;
    }

    function applyVerdict(uint256, uint16, Terms calldata) external pure returns (GateStatus) {
        return GateStatus.Decided;
    }
}
