// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A hostile ERC-20 for tests only (issue 13, attack 7): its `transfer` burns `burn` gas
/// only when `tx.gasprice > 0`. A gas estimate made without fee fields runs at gas price 0 and comes
/// out too low; the mined transaction, which pays for gas, then runs out of it. `transferFrom`
/// always behaves, so the token can be paid in.
contract GasPriceSensitiveToken is ERC20 {
    uint256 public burn;

    constructor(uint256 burn_) ERC20("Gas Price Sensitive Token", "GPST") {
        burn = burn_;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (tx.gasprice > 0) {
            uint256 stopAt = gasleft() - burn;
            while (gasleft() > stopAt) {}
        }
        return super.transfer(to, value);
    }
}
