// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {SafePush} from "../utils/SafePush.sol";

/// @notice Exposes {SafePush} for direct tests, and OpenZeppelin's uncapped `trySafeTransfer` next
/// to it for comparison; each call reports whether it pushed and the gas the push took. Test only.
contract SafePushHarness {
    using SafeERC20 for IERC20;

    mapping(address account => mapping(address token => uint256)) public credited;

    event Pushed(bool ok, uint256 gasUsed);

    receive() external payable {}

    function pushToken(address token, address to, uint256 amount) external returns (bool ok) {
        uint256 start = gasleft();
        ok = SafePush.tryPushToken(token, to, amount, SafePush.TOKEN_PUSH_GAS);
        emit Pushed(ok, start - gasleft());
    }

    function pushETH(address to, uint256 amount, uint256 gasLimit) external returns (bool ok) {
        uint256 start = gasleft();
        ok = SafePush.tryPushETH(to, amount, gasLimit);
        emit Pushed(ok, start - gasleft());
    }

    function pushOrCredit(address token, address to, uint256 amount) external returns (bool ok) {
        uint256 start = gasleft();
        ok = SafePush.pushOrCredit(credited, token, to, amount, 30_000, SafePush.TOKEN_PUSH_GAS);
        emit Pushed(ok, start - gasleft());
    }

    /// @notice The code this repository used before {SafePush}: all remaining gas to the token.
    function pushTokenUncapped(address token, address to, uint256 amount) external returns (bool ok) {
        uint256 start = gasleft();
        ok = IERC20(token).trySafeTransfer(to, amount);
        emit Pushed(ok, start - gasleft());
    }

    /// @notice The free memory pointer after a token push, to check that the push restored it.
    function freeMemoryPointerAfterPush(address token, address to, uint256 amount)
        external
        returns (uint256 before, uint256 afterwards)
    {
        assembly ("memory-safe") {
            before := mload(0x40)
        }
        SafePush.tryPushToken(token, to, amount, SafePush.TOKEN_PUSH_GAS);
        assembly ("memory-safe") {
            afterwards := mload(0x40)
        }
    }
}
