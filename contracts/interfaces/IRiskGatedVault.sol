// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGated} from "./IRiskGated.sol";

/// @title IRiskGatedVault
/// @notice What PaymentRouter and Escrow share as holders of money behind the risk gate: pull
/// credits for failed pushes, protocol fees swept to a treasury, an emergency pause. Errors stay
/// per contract (`PaymentRouter...`, `Escrow...`), so each keeps the ABI its clients decode.
interface IRiskGatedVault is IRiskGated {
    /// @notice The risk policy a verdict is applied under, in one word: scores below
    /// `reviewThreshold` settle, scores in [reviewThreshold, rejectThreshold) hold for a reviewer,
    /// scores at or above `rejectThreshold` reject; a settlement pays `feeBps` to the treasury.
    struct RiskPolicy {
        uint16 reviewThreshold;
        uint16 rejectThreshold;
        uint16 feeBps;
    }

    /// @notice `account` withdrew its credit of `token` (address(0) = ETH).
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice The accrued protocol fees of `token` were sent to `treasury`.
    event FeesSwept(address indexed token, address indexed treasury, uint256 amount);
    /// @notice Swept fees go to `treasury` from now on.
    event TreasuryChanged(address treasury);

    /// @notice Withdraws what failed pushes credited to the sender, with all remaining gas.
    /// Works while paused.
    ///
    /// Requirements:
    /// - the sender has a non-zero credit in `token` (address(0) = ETH);
    /// - the transfer to the sender succeeds.
    function withdraw(address token) external;

    /// @notice Sends the accrued protocol fees of `token` to the treasury. Anyone may call; works
    /// while paused.
    ///
    /// Requirements:
    /// - some fees of `token` have accrued.
    function sweepFees(address token) external;

    /// @notice Sets where swept fees go.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE;
    /// - `newTreasury` is not the zero address.
    function setTreasury(address newTreasury) external;

    /// @notice Pauses new business; verdicts that would settle hold instead.
    ///
    /// Requirements:
    /// - the caller has GUARDIAN_ROLE or DEFAULT_ADMIN_ROLE;
    /// - not paused.
    function pause() external;

    /// @notice Ends a pause.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE;
    /// - paused.
    function unpause() external;

    /// @notice What failed pushes credited to `account` in `token`, for {withdraw}.
    function credited(address account, address token) external view returns (uint256);
    /// @notice Protocol fees of `token` accrued and not yet swept.
    function feesAccrued(address token) external view returns (uint256);
    /// @notice Where swept fees go.
    function treasury() external view returns (address);
    /// @notice Every holder of REVIEWER_ROLE (who may approve or reject Held items), in no set
    /// order. Any role's holders: `getRoleMembers(role)` (AccessControlEnumerable).
    function reviewers() external view returns (address[] memory);
    /// @notice Every holder of GUARDIAN_ROLE (who may pause), in no set order.
    function guardians() external view returns (address[] memory);
}
