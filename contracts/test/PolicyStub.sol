// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Stands in for the PaymentRouter's policy views (thresholds, fee, treasury) in unit
/// tests of the Escrow; test only.
contract PolicyStub {
    uint16 public reviewThreshold = 5000;
    uint16 public rejectThreshold = 8000;
    uint16 public feeBps = 100;
    address public treasury;

    constructor(address treasury_) {
        treasury = treasury_;
    }

    function setThresholds(uint16 review, uint16 reject) external {
        reviewThreshold = review;
        rejectThreshold = reject;
    }

    function setFeeBps(uint16 bps) external {
        feeBps = bps;
    }
}
