// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title FxLockReserve
/// @notice The reserve that pays rate locks' shortfalls (issue 18.5). It holds currency tokens: the
/// premiums of settled locked payments (the CrossBorderRouter sends them here) and whatever anyone
/// transfers in to back the locks. Its balance of a token is all it can cover: the router asks for
/// a shortfall inside the swap it checks, so a reserve too small refunds the payer instead.
contract FxLockReserve is AccessControl {
    using SafeERC20 for IERC20;

    /// @notice Held by the CrossBorderRouter: may take a lock's shortfall.
    bytes32 public constant COVER_ROLE = keccak256("COVER_ROLE");

    event LockCovered(address indexed router, address indexed token, uint256 amount);
    event ReserveWithdrawn(address indexed token, address indexed to, uint256 amount);

    error FxLockReserveZeroAddress();

    /// @param admin DEFAULT_ADMIN_ROLE (the deployer, later the DAO timelock): grants COVER_ROLE
    /// to the router and withdraws surplus
    constructor(address admin) {
        if (admin == address(0)) revert FxLockReserveZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Sends `amount` of `token` to the caller: a locked payment's shortfall.
    ///
    /// Requirements:
    /// - the caller has COVER_ROLE; the reserve holds `amount` of `token`.
    function cover(address token, uint256 amount) external onlyRole(COVER_ROLE) {
        emit LockCovered(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @notice Withdraws `amount` of `token` to `to`.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE; `to` non-zero; the reserve holds `amount`.
    function withdraw(address token, uint256 amount, address to) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (to == address(0)) revert FxLockReserveZeroAddress();
        emit ReserveWithdrawn(token, to, amount);
        IERC20(token).safeTransfer(to, amount);
    }
}
