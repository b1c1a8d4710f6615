// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IRiskGated
/// @notice A contract whose money moves only on a final risk verdict from the RiskOracle
/// (PaymentRouter for payments, Escrow for milestone releases). Ids are local to each target.
interface IRiskGated {
    /// @notice Where an item stands with respect to the risk gate (the number an ABI client such
    /// as `cast` sees, then the name):
    /// - 0 `Unknown`: no such id.
    /// - 1 `Awaiting`: waiting for a final verdict, deadline not passed.
    /// - 2 `Expired`: waiting, but the verdict deadline has passed (only reclaim/refund remains).
    /// - 3 `Decided`: a final verdict was already applied (or the item was otherwise closed).
    enum GateStatus {
        Unknown,
        Awaiting,
        Expired,
        Decided
    }

    /// @notice The gate status of `id`. Called by the RiskOracle before it records a node's vote.
    function gateStatus(uint256 id) external view returns (GateStatus);

    /// @notice Applies the final `score` (0-10000 basis points) to `id`.
    /// Returns the status `id` had before the call; the verdict was applied only if that is
    /// `Awaiting`. Never reverts because of one payee or token, so one bad item cannot block a batch.
    ///
    /// Requirements:
    /// - the caller is the RiskOracle this contract trusts.
    function applyVerdict(uint256 id, uint16 score) external returns (GateStatus);
}
