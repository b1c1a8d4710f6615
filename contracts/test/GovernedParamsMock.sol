// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @notice Test-only stand-in for the PaymentRouter and RiskOracle policy surface: the same setter
/// selectors under OpenZeppelin AccessControl, without payments. Used by the governance tests.
contract GovernedParamsMock is AccessControl {
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 public constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");

    uint16 public reviewThreshold = 5000;
    uint16 public rejectThreshold = 8000;
    uint16 public feeBps = 50;
    uint64 public deadlineWindow = 1 hours;
    uint64 public reviewWindow = 1 days;
    address public treasury;
    address public oracle;
    uint8 public quorum = 1;
    bool public paused;
    mapping(address => bool) public isNode;
    mapping(bytes32 => bool) public isModelApproved;

    event ThresholdsChanged(uint16 reviewThreshold, uint16 rejectThreshold);

    error GovernedParamsMockInvalidThresholds(uint16 reviewThreshold, uint16 rejectThreshold);

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function setThresholds(uint16 review, uint16 reject) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (review >= reject || reject > 10_000) revert GovernedParamsMockInvalidThresholds(review, reject);
        reviewThreshold = review;
        rejectThreshold = reject;
        emit ThresholdsChanged(review, reject);
    }

    function setFeeBps(uint16 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        feeBps = fee;
    }

    function setDeadlineWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        deadlineWindow = window;
    }

    function setReviewWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        reviewWindow = window;
    }

    function setTreasury(address t) external onlyRole(DEFAULT_ADMIN_ROLE) {
        treasury = t;
    }

    function setOracle(address o) external onlyRole(DEFAULT_ADMIN_ROLE) {
        oracle = o;
    }

    function addNode(address node) external onlyRole(DEFAULT_ADMIN_ROLE) {
        isNode[node] = true;
    }

    function removeNode(address node) external onlyRole(DEFAULT_ADMIN_ROLE) {
        isNode[node] = false;
    }

    function setQuorum(uint8 q) external onlyRole(DEFAULT_ADMIN_ROLE) {
        quorum = q;
    }

    function approveModel(bytes32 modelId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        isModelApproved[modelId] = true;
    }

    function pause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        paused = true;
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        paused = false;
    }
}
