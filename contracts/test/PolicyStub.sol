// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGatedVault} from "../interfaces/IRiskGatedVault.sol";

/// @notice Stands in for the PaymentRouter's policy views (thresholds, fee, treasury, token list) in unit
/// tests of the Escrow; test only. Reports any fee it is given, unchecked, like a hostile router.
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

    /// @notice Push budgets by token, as the router's token list; unchecked (any value).
    mapping(address token => uint32) public tokenPushGas;

    function setToken(address token, uint32 pushGas) external {
        tokenPushGas[token] = pushGas;
    }

    function riskPolicy() external view returns (IRiskGatedVault.RiskPolicy memory) {
        return IRiskGatedVault.RiskPolicy({
            reviewThreshold: reviewThreshold,
            rejectThreshold: rejectThreshold,
            feeBps: feeBps
        });
    }
}
