// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 that, once armed, calls `target` with `data` from inside its next transfer
/// and records whether that reentry succeeded; for tests only.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public data;
    bool public armed;

    event Reentered(bool success, bytes returnData);

    constructor() ERC20("Reentrant", "REENT") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function approveFromToken(address spender, uint256 amount) external {
        _approve(address(this), spender, amount);
    }

    function arm(address target_, bytes calldata data_) external {
        target = target_;
        data = data_;
        armed = true;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0) && to != address(0)) {
            armed = false;
            (bool success, bytes memory returnData) = target.call(data);
            emit Reentered(success, returnData);
        }
    }
}
