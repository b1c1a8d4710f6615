// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A payee that calls `target` with `data` from inside its `receive` and records whether
/// that reentry succeeded; for tests only.
contract ReentrantPayee {
    address public target;
    bytes public data;

    event Reentered(bool success, bytes returnData);

    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
    }

    /// @notice Calls `target` with `data_` as this contract (e.g. withdraw a credit).
    function execute(address target_, bytes calldata data_) external {
        (bool success, bytes memory returnData) = target_.call(data_);
        if (!success) {
            assembly ("memory-safe") {
                revert(add(returnData, 0x20), mload(returnData))
            }
        }
    }

    receive() external payable {
        if (target == address(0)) return;
        (bool success, bytes memory returnData) = target.call(data);
        emit Reentered(success, returnData);
    }
}
