// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IWithdraw {
    function withdraw(address token) external;
}

/// @notice A payee whose `receive` reverts until it is told to accept; for tests only.
contract RevertingPayee {
    bool public accepting;

    error RevertingPayeeRefused();

    receive() external payable {
        if (!accepting) revert RevertingPayeeRefused();
    }

    function setAccepting(bool accepting_) external {
        accepting = accepting_;
    }

    function withdrawFrom(address router, address token) external {
        IWithdraw(router).withdraw(token);
    }
}
