// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 that calls back into `target` on every transfer to or from it; test only.
/// Modes: 0 behaves; 1 re-enters with `attack` and reverts the transfer if that fails;
/// 2 re-enters and swallows the failure; 3 reverts every transfer out of `target`.
contract EscrowReentrantToken is ERC20 {
    address public target;
    bytes public attack;
    uint8 public mode;
    bool public lastReentrySucceeded;
    uint64 public reentryAttempts;

    constructor() ERC20("Reentrant", "RENT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, uint8 mode_, bytes calldata attack_) external {
        target = target_;
        mode = mode_;
        attack = attack_;
    }

    function _update(address from, address to, uint256 value) internal override {
        uint8 m = mode;
        if (m != 0 && (from == target || to == target)) {
            if (m == 3) {
                if (from == target) revert("transfer blocked");
            } else {
                (bool ok,) = target.call(attack);
                lastReentrySucceeded = ok;
                reentryAttempts += 1;
                if (!ok && m == 1) revert("reentry blocked");
            }
        }
        super._update(from, to, value);
    }
}
