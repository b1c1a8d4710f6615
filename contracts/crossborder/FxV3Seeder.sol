// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @dev The part of Uniswap v3's pool this seeder calls (v3-core `IUniswapV3PoolActions.mint`).
interface IUniswapV3PoolMint {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external
        returns (uint256 amount0, uint256 amount1);
}

/// @title FxV3Seeder
/// @notice Adds liquidity to a Uniswap v3 pool straight through `pool.mint`, paying the pool in its
/// mint callback from the caller's approved balance: what the deploy seeds the local v3 pools with
/// (the periphery's NonfungiblePositionManager would add an NFT and a descriptor for nothing).
contract FxV3Seeder {
    using SafeERC20 for IERC20;

    error FxV3SeederUnexpectedCallback(address sender);

    /// @dev The pool being minted and who pays it, set for the duration of one {seed} call only.
    address private _pool;
    address private _payer;

    /// @notice Mints `liquidity` in [`tickLower`, `tickUpper`] of `pool` for `recipient`; the pool
    /// takes what it asks for from the caller (approved to this contract).
    ///
    /// Requirements:
    /// - the caller approved this contract for both tokens of `pool`, enough for `liquidity`.
    function seed(address pool, int24 tickLower, int24 tickUpper, uint128 liquidity, address recipient)
        external
        returns (uint256 amount0, uint256 amount1)
    {
        _pool = pool;
        _payer = msg.sender;
        (amount0, amount1) = IUniswapV3PoolMint(pool).mint(recipient, tickLower, tickUpper, liquidity, "");
        _pool = address(0);
        _payer = address(0);
    }

    /// @notice Uniswap v3's mint callback: pays the pool being seeded what it is owed.
    ///
    /// Requirements:
    /// - the caller is the pool of the {seed} call in progress.
    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        address pool = _pool;
        if (msg.sender != pool || pool == address(0)) revert FxV3SeederUnexpectedCallback(msg.sender);
        if (amount0Owed > 0) IERC20(IUniswapV3PoolMint(pool).token0()).safeTransferFrom(_payer, pool, amount0Owed);
        if (amount1Owed > 0) IERC20(IUniswapV3PoolMint(pool).token1()).safeTransferFrom(_payer, pool, amount1Owed);
    }
}
