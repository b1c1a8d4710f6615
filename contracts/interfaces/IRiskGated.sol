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
    /// - 4 `Mismatch`: only from {applyVerdict}: the terms passed are not the item's (nothing was
    ///   applied; {gateStatus} never answers it).
    enum GateStatus {
        Unknown,
        Awaiting,
        Expired,
        Decided,
        Mismatch
    }

    /// @notice The immutable terms of a gated item, as its request log gave them (a payment's
    /// `PaymentRequested`; an escrow release's buyer, supplier, token and milestone amount).
    /// keccak256(abi.encode(terms)) is the item's content hash (issue 17, {IRiskOracle-Report}); a
    /// PaymentRouter keeps only its first 160 bits (issue 16.4: one storage slot per payment) and
    /// pays out only against terms that hash to them.
    struct Terms {
        address payer;
        address payee;
        address token; // address(0) for ETH
        uint256 amount;
    }

    /// @notice The gate status of `id`. Called by the RiskOracle before it records a node's vote.
    function gateStatus(uint256 id) external view returns (GateStatus);

    /// @notice Applies the final `score` (0-10000 basis points) to `id`, whose terms are `terms`.
    /// Returns the status `id` had before the call, or `Mismatch` when `terms` are not the item's;
    /// the verdict was applied only if the answer is `Awaiting`. Never reverts because of one payee
    /// or token, so one bad item cannot block a batch. A target that stores its items' terms in
    /// full (Escrow) may ignore `terms`.
    ///
    /// Requirements:
    /// - the caller is the RiskOracle this contract trusts.
    function applyVerdict(uint256 id, uint16 score, Terms calldata terms) external returns (GateStatus);
}
