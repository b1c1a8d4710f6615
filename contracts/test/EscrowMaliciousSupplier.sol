// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A supplier contract that attacks the Escrow when paid in ETH; test only.
/// Modes: 0 behaves; 1 re-enters with `attack` and reverts if that fails; 2 re-enters and
/// swallows the failure; 3 burns all the gas it is given.
contract EscrowMaliciousSupplier {
    address public immutable escrow;
    bytes public attack;
    uint8 public mode;
    bool public lastReentrySucceeded;
    uint64 public reentryAttempts;

    constructor(address escrow_) {
        escrow = escrow_;
    }

    function arm(uint8 mode_, bytes calldata attack_) external {
        mode = mode_;
        attack = attack_;
    }

    /// @notice Calls the escrow as this contract (request releases, dispute, withdraw).
    function execute(bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = escrow.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        uint8 m = mode;
        if (m == 0) return;
        if (m == 3) {
            while (true) {}
        }
        (bool ok,) = escrow.call(attack);
        lastReentrySucceeded = ok;
        reentryAttempts += 1;
        if (!ok && m == 1) revert("reentry blocked");
    }
}
