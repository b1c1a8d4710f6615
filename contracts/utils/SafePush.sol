// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title SafePush
/// @notice Pushes ETH or an ERC-20 to a recipient with a bounded amount of gas and reports whether
/// it worked, never reverting; {pushOrCredit} credits a failed push for a later pull withdrawal.
/// Shared by PaymentRouter and Escrow, whose verdict paths settle many items in one transaction.
///
/// Why a gas cap on the token push too: OpenZeppelin's `SafeERC20.trySafeTransfer` forwards all
/// remaining gas. A hostile token whose `transfer` burns gas then takes 63/64 of what is left, and
/// every later item of a RiskOracle verdict batch runs out of gas: one token would block every
/// other payment's verdict in the batch. With the cap, a hostile token costs at most
/// {TOKEN_PUSH_GAS} and is credited like any other failed push. OpenZeppelin 5.7.0 has no variant
/// that takes a gas limit (`SafeERC20._safeTransfer` is private and uses `gas()`,
/// `LowLevelCall.callReturn64Bytes` too), so {tryPushToken} repeats its few lines with a limit.
///
/// Neither push copies more than 32 bytes of return data, so a "return-data bomb" costs the
/// caller nothing: the only memory it could expand is the callee's, inside the cap.
///
/// Starvation by the caller: a call gets at most 63/64 of the gas left (EIP-150). If the caller
/// leaves less than `cap * 64 / 63`, an honest recipient may run out inside the call, but then the
/// caller keeps under 1/64 of a cap (about 2,400 gas for the token cap): too little for the credit
/// (a cold storage write, at least 5,000 gas), so the whole transaction runs out of gas instead of
/// silently crediting. A push is thus only ever credited because of the recipient or the token.
library SafePush {
    /// @notice The most gas a token push may be given: the upper bound of a listed token's push
    /// budget (PaymentRouter's `setToken`), and the budget the tests' harness pushes with.
    /// @dev Measured pushes (tests/contracts/test_hostile_tokens.py) to an address that holds none
    /// of the token yet, the dearest case (a zero-to-non-zero balance write): OpenZeppelin ERC20
    /// about 33,000 gas; a fee-on-transfer token 41,000; a USDC-like token behind an ERC-1967 proxy
    /// with pause and blacklist checks 44,000; an ERC20Votes token (governance tokens such as this
    /// DAO's) whose recipient has delegated, so a new checkpoint is written too, 85,000. A sender
    /// contract such as ours never delegates, so that is the dearest Votes case. 150,000 leaves
    /// that one 75% headroom (future gas repricings), and bounds what a hostile token can take from
    /// a verdict batch to 150,000 gas per item, about four ordinary settlements. A token that needs
    /// more (one that swaps on transfer, say) is credited, and its recipient withdraws with all the
    /// gas it wants.
    uint256 internal constant TOKEN_PUSH_GAS = 150_000;

    /// @dev Sends `amount` wei to `to` with at most `gasLimit` gas (plus the EVM's 2,300 stipend of
    /// a value-bearing call), copying no return data. Returns whether the call succeeded.
    function tryPushETH(address to, uint256 amount, uint256 gasLimit) internal returns (bool success) {
        assembly ("memory-safe") {
            success := call(gasLimit, to, amount, 0x00, 0x00, 0x00, 0x00)
        }
    }

    /// @dev Calls `token.transfer(to, amount)` with at most `gasLimit` gas and reports success the
    /// way OpenZeppelin's `SafeERC20.trySafeTransfer` does: the call succeeded and either returned
    /// a first word equal to 1 (true), or returned nothing from an address that has code (tokens
    /// such as USDT that return no value). At most 32 bytes of return data are copied, into scratch
    /// space; the free memory pointer, which the arguments overlap, is restored.
    function tryPushToken(address token, address to, uint256 amount, uint256 gasLimit)
        internal
        returns (bool success)
    {
        bytes4 selector = IERC20.transfer.selector;
        assembly ("memory-safe") {
            let fmp := mload(0x40)
            mstore(0x00, selector)
            mstore(0x04, and(to, shr(96, not(0))))
            mstore(0x24, amount)
            success := call(gasLimit, token, 0, 0x00, 0x44, 0x00, 0x20)
            // not a plain `true`: only an empty answer from a contract counts as success
            if iszero(and(success, eq(mload(0x00), 1))) {
                success := and(success, and(iszero(returndatasize()), gt(extcodesize(token), 0)))
            }
            mstore(0x40, fmp)
        }
    }

    /// @dev Pushes `amount` of `token` (address(0) = ETH) to `to`: ETH with `ethGasLimit`, a token
    /// with `tokenGasLimit` (the token's own budget, which its vault's governance sets; see
    /// PaymentRouter's token list). A token budget of 0 (a delisted token) makes no call at all and
    /// credits straight away. If the push fails, adds `amount` to `credits[to][token]` for a later
    /// withdrawal. Returns whether it was pushed (false: credited), so the caller emits its own
    /// event. Never reverts because of the recipient or the token.
    ///
    /// The credit is written after the external call: the caller must hold a reentrancy guard
    /// (every caller in this repository is `nonReentrant`) and have finished its own effects.
    function pushOrCredit(
        mapping(address account => mapping(address token => uint256)) storage credits,
        address token,
        address to,
        uint256 amount,
        uint256 ethGasLimit,
        uint256 tokenGasLimit
    ) internal returns (bool pushed) {
        if (token == address(0)) {
            pushed = tryPushETH(to, amount, ethGasLimit);
        } else if (tokenGasLimit != 0) {
            pushed = tryPushToken(token, to, amount, tokenGasLimit);
        }
        if (!pushed) credits[to][token] += amount;
    }
}
