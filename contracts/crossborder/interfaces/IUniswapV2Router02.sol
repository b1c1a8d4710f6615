// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// @notice The two functions of Uniswap v2's `UniswapV2Router02` (npm `@uniswap/v2-periphery`,
/// deployed from its shipped bytecode) that the cross-border router uses.
interface IUniswapV2Router02 {
    function swapExactTokensForTokens(
        uint256 amountIn,
        uint256 amountOutMin,
        address[] calldata path,
        address to,
        uint256 deadline
    ) external returns (uint256[] memory amounts);

    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory amounts);
}
