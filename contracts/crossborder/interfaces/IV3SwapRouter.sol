// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev The part of Uniswap v3's SwapRouter (v3-periphery `ISwapRouter`) the CrossBorderRouter calls:
/// a multi-hop exact-input swap along a packed path (token, fee, token, fee, ..., token).
interface IV3SwapRouter {
    struct ExactInputParams {
        bytes path;
        address recipient;
        uint256 deadline;
        uint256 amountIn;
        uint256 amountOutMinimum;
    }

    function exactInput(ExactInputParams calldata params) external payable returns (uint256 amountOut);
}
