// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 whose transfers to one blacklisted recipient revert (a frozen account);
/// for tests only.
contract SelectiveRevertToken is ERC20 {
    address public blacklisted;

    error SelectiveRevertTokenBlacklisted(address account);

    constructor() ERC20("Selective", "SEL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlacklisted(address account) external {
        blacklisted = account;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to == blacklisted) revert SelectiveRevertTokenBlacklisted(to);
        super._update(from, to, value);
    }
}
