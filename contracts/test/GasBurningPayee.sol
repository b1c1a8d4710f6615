// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface IWithdrawable {
    function withdraw(address token) external;
}

/// @notice A payee contract whose `receive` burns every bit of gas it is given until it is told
/// to accept; for tests only.
contract GasBurningPayee {
    bool public accepting;

    receive() external payable {
        if (!accepting) {
            while (gasleft() > 0) {}
        }
    }

    function setAccepting(bool accepting_) external {
        accepting = accepting_;
    }

    function withdrawFrom(address target, address token) external {
        IWithdrawable(target).withdraw(token);
    }
}
