// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGatedVault} from "./IRiskGatedVault.sol";

/// @title IEscrow
/// @notice Milestone escrow for supply-chain finance. A buyer funds an agreement with a supplier
/// (ETH or an ERC-20), split into milestones. Every release to the supplier passes the same risk
/// gate as a PaymentRouter payment: it settles only on a final verdict from the RiskOracle, under
/// the router's thresholds. Disputes are ruled by governance-appointed arbiters; every timeout
/// refunds the buyer or returns the milestone to a state it can leave again (fail closed).
///
/// Milestone state machine (see docs/escrow.md):
///
///   Funded --requestRelease--> Requested --confirm / autoConfirm--> Gated (ReleaseRequested)
///   Gated --verdict < review--> Released            Gated --review <= verdict < reject--> Held
///   Gated --verdict >= reject--> Flagged            Held --approve--> Released / --reject--> Flagged
///   Gated, Held --deadline passed, expireRelease--> Funded
///   Funded, Requested, Gated, Held, Flagged --openDispute--> Disputed
///   Disputed --ruling, supplier share 0--> Refunded  --ruling, supplier share > 0--> Gated (share)
///   Disputed --ruling deadline passed, reclaim--> Refunded
///   Flagged --contest window passed, reclaim--> Refunded
///   Funded --both parties' EIP-712 signatures, cancelMilestone--> Cancelled
interface IEscrow is IRiskGatedVault {
    // =============================================================================================
    //                                            TYPES
    // =============================================================================================

    enum MilestoneStatus {
        None, // no such milestone
        Funded, // escrowed, nothing asked yet ("not started")
        Requested, // the supplier asked for the release; the buyer confirms or the grace period runs out
        Gated, // confirmed; waiting for a final risk verdict (ReleaseRequested was emitted)
        Held, // verdict in the review band; a reviewer approves or rejects
        Flagged, // verdict at or above the reject threshold; money stays, a party may dispute
        Disputed, // an arbiter rules before the ruling deadline
        Released, // paid to the supplier (terminal)
        Refunded, // paid back to the buyer (terminal)
        Cancelled // cancelled by both parties and refunded to the buyer (terminal)
    }

    /// @notice One milestone; packed into one storage slot.
    /// @param amount what this milestone still holds in escrow (after a split ruling: the
    ///        supplier's share); for a terminal milestone, the amount it last held
    /// @param dueDate delivery due date (informational; disputes for late delivery refer to it)
    /// @param deadline the deadline of the current state: auto-confirm time (Requested), verdict
    ///        deadline (Gated), review deadline (Held), contest deadline (Flagged), ruling deadline
    ///        (Disputed); 0 otherwise
    /// @param gateId the last risk-gate id issued for this milestone (0 if none yet)
    struct Milestone {
        uint96 amount;
        uint48 dueDate;
        uint48 deadline;
        uint48 gateId;
        MilestoneStatus status;
    }

    struct Agreement {
        address buyer;
        uint32 milestoneCount;
        uint48 createdAt;
        address supplier;
        address token; // address(0) for ETH
    }

    /// @notice Time windows (seconds), one storage slot; each within [1 minute, 30 days].
    struct Windows {
        uint48 confirmGrace; // Requested -> anyone may auto-confirm after this
        uint48 verdict; // Gated -> verdict deadline
        uint48 review; // Held -> review deadline
        uint48 contest; // Flagged -> a party may dispute before, anyone may reclaim after
        uint48 ruling; // Disputed -> ruling deadline
    }

    // =============================================================================================
    //                                            EVENTS
    // =============================================================================================

    event AgreementCreated(
        uint256 indexed agreementId,
        address indexed buyer,
        address indexed supplier,
        address token,
        uint256 funded,
        uint256 milestoneCount
    );
    /// @notice The supplier asked for the release of a milestone; confirmable from now on,
    /// auto-confirmable by anyone at `autoConfirmAt`.
    event ReleaseProposed(uint256 indexed agreementId, uint256 milestone, uint64 autoConfirmAt);
    /// @notice The release was confirmed by the buyer (`byBuyer`) or automatically after the grace.
    event ReleaseConfirmed(uint256 indexed agreementId, uint256 milestone, address indexed by, bool byBuyer);
    /// @notice The release entered the risk gate; the oracle daemon scores it like a payment.
    event ReleaseRequested(
        uint256 indexed gateId,
        uint256 indexed agreementId,
        uint256 milestone,
        address payer, /* buyer */
        address payee, /* supplier */
        address token,
        uint256 amount,
        uint64 deadline
    );
    event ReleaseSettled(
        uint256 indexed gateId,
        uint256 indexed agreementId,
        uint256 milestone,
        address indexed supplier,
        uint256 supplierAmount,
        uint256 fee
    );
    event ReleaseHeld(uint256 indexed gateId, uint256 indexed agreementId, uint256 milestone, uint16 score, uint64 reviewDeadline);
    /// @notice The release was rejected (by verdict, `score`, or by a reviewer, `score` = the held
    /// score); the money stays in escrow and the milestone is Flagged until `contestDeadline`.
    event ReleaseRejected(uint256 indexed gateId, uint256 indexed agreementId, uint256 milestone, uint16 score, uint64 contestDeadline);
    event ReleaseReviewed(uint256 indexed gateId, address indexed reviewer, bool approved);
    /// @notice No final verdict (or review) by the deadline: the milestone is Funded again.
    event ReleaseExpired(uint256 indexed gateId, uint256 indexed agreementId, uint256 milestone);
    event DisputeOpened(uint256 indexed agreementId, uint256 milestone, address indexed by, uint64 rulingDeadline);
    event DisputeResolved(
        uint256 indexed agreementId,
        uint256 milestone,
        address indexed arbiter,
        uint16 supplierBps,
        uint256 supplierAmount,
        uint256 buyerAmount,
        uint256 arbiterFee
    );
    event MilestoneReclaimed(uint256 indexed agreementId, uint256 milestone, address indexed buyer, uint256 amount);
    event MilestoneCancelled(uint256 indexed agreementId, uint256 milestone, uint256 amount);
    /// @notice A push failed; `amount` of `token` is credited to `account` for `withdraw`.
    event Credited(address indexed account, address indexed token, uint256 amount);
    event WindowsChanged(Windows windows);
    event ArbiterFeeChanged(uint16 arbiterFeeBps);
    event OracleChanged(address oracle);
    event RouterChanged(address router);

    // =============================================================================================
    //                                            ERRORS
    // =============================================================================================

    error EscrowZeroAddress();
    error EscrowSelfDeal();
    error EscrowInvalidMilestones(uint256 count);
    error EscrowLengthMismatch();
    error EscrowZeroAmount(uint256 milestone);
    error EscrowInvalidDueDate(uint256 milestone, uint64 dueDate);
    error EscrowAmountTooLarge(uint256 total);
    error EscrowValueMismatch(uint256 expected, uint256 sent);
    error EscrowUnexpectedValue();
    error EscrowNotAToken(address token);
    /// @notice `token` is not on the router's token list (the DAO's, issue 13.6); ETH needs none.
    error EscrowTokenNotListed(address token);
    error EscrowNothingReceived();
    error EscrowUnknownAgreement(uint256 agreementId);
    error EscrowUnknownMilestone(uint256 agreementId, uint256 milestone);
    error EscrowUnknownGate(uint256 gateId);
    error EscrowInvalidStatus(uint256 agreementId, uint256 milestone, MilestoneStatus status);
    error EscrowNotBuyer(address caller);
    error EscrowNotSupplier(address caller);
    error EscrowNotParty(address caller);
    error EscrowArbiterIsParty(address arbiter);
    error EscrowTooEarly(uint64 deadline);
    error EscrowDeadlinePassed(uint64 deadline);
    error EscrowNotDisputed(uint256 agreementId, uint256 milestone);
    error EscrowInvalidBps(uint16 bps);
    error EscrowFeeTooHigh(uint16 bps);
    error EscrowInvalidWindow(uint48 window);
    error EscrowOnlyOracle(address caller);
    error EscrowSignatureExpired(uint256 deadline);
    error EscrowInvalidSignature(address signer);
    error EscrowNothingToWithdraw();

    // =============================================================================================
    //                                         AGREEMENTS
    // =============================================================================================

    /// @notice The sender (buyer) escrows `sum(amounts)` of `token` (address(0) = ETH, sent as
    /// msg.value) for `supplier`, one milestone per amount. For a fee-on-transfer token what
    /// actually arrives is split across the milestones pro rata. Returns the agreement id.
    ///
    /// Requirements:
    /// - not paused; `supplier` non-zero and not the sender;
    /// - 1 to MAX_MILESTONES milestones, `amounts` and `dueDates` of equal length;
    /// - every amount > 0, every due date in the future; the total fits in 96 bits;
    /// - ETH: `msg.value` equals the total; token: no value, `token` has code and is on
    ///   the router's token list (`IPaymentRouter.setToken`, issue 13.6), the escrow is approved
    ///   for the total, and something arrives.
    function createAgreement(address supplier, address token, uint256[] calldata amounts, uint64[] calldata dueDates)
        external
        payable
        returns (uint256 agreementId);

    /// @notice The supplier asks for the release of a Funded milestone.
    ///
    /// Requirements: not paused; the caller is the supplier; the milestone is Funded.
    function requestRelease(uint256 agreementId, uint256 milestone) external;

    /// @notice The buyer confirms a Requested release; it enters the risk gate (ReleaseRequested).
    ///
    /// Requirements: not paused; the caller is the buyer; the milestone is Requested.
    function confirmRelease(uint256 agreementId, uint256 milestone) external returns (uint256 gateId);

    /// @notice Anyone confirms a Requested release once the buyer's grace period has passed.
    ///
    /// Requirements: not paused; the milestone is Requested and its auto-confirm time has come.
    function autoConfirmRelease(uint256 agreementId, uint256 milestone) external returns (uint256 gateId);

    /// @notice A reviewer approves (pays the supplier) or rejects (Flagged) a Held release.
    ///
    /// Requirements: REVIEWER_ROLE; the gate's milestone is Held under this gate and its review
    /// deadline has not passed; approving needs not paused.
    function reviewRelease(uint256 gateId, bool approve) external;

    /// @notice Returns a Gated milestone past its verdict deadline, or a Held one past its review
    /// deadline, to Funded (it can be requested again, disputed or cancelled). Anyone; works paused.
    ///
    /// Requirements: the milestone is Gated or Held and the deadline has passed.
    function expireRelease(uint256 agreementId, uint256 milestone) external;

    // =============================================================================================
    //                                          DISPUTES
    // =============================================================================================

    /// @notice The buyer or supplier opens a dispute on a milestone not yet released. Works paused.
    ///
    /// Requirements: the caller is the buyer or the supplier; the milestone is Funded, Requested,
    /// Gated, Held or Flagged.
    function openDispute(uint256 agreementId, uint256 milestone) external;

    /// @notice An arbiter rules on a Disputed milestone: the arbiter fee (arbiterFeeBps of the
    /// disputed amount, paid on the first ruling of a milestone only) goes to the arbiter, `supplierBps` of the rest to the supplier through the
    /// risk gate (the milestone is Gated again for that share), the remainder back to the buyer.
    /// 10000 = release, 0 = refund, anything between = split.
    ///
    /// Requirements: ARBITER_ROLE, not the buyer or supplier; the milestone is Disputed and its
    /// ruling deadline has not passed; `supplierBps` <= 10000; a ruling with `supplierBps` > 0
    /// needs not paused (a pure refund works paused).
    function resolveDispute(uint256 agreementId, uint256 milestone, uint16 supplierBps) external;

    /// @notice Refunds the buyer a Disputed milestone past its ruling deadline, or a Flagged one
    /// past its contest deadline. Anyone may call; works paused.
    ///
    /// Requirements: as above.
    function reclaim(uint256 agreementId, uint256 milestone) external;

    /// @notice Cancels a Funded milestone and refunds the buyer, with both parties' EIP-712
    /// signatures of CancelMilestone(agreementId, milestone, nonce, deadline), each over the
    /// signer's current nonce (both nonces are consumed). Anyone may submit; works paused.
    ///
    /// Requirements: the milestone is Funded; `deadline` not passed; both signatures valid
    /// (ECDSA or ERC-1271) for the current nonces.
    function cancelMilestone(
        uint256 agreementId,
        uint256 milestone,
        uint256 deadline,
        bytes calldata buyerSignature,
        bytes calldata supplierSignature
    ) external;

    // =============================================================================================
    //                      ADMINISTRATION: DEFAULT_ADMIN_ROLE (the DAO timelock)
    // =============================================================================================

    /// @notice Requirements: admin; each window within [1 minute, 30 days].
    function setWindows(Windows calldata newWindows) external;
    /// @notice Requirements: admin; at most MAX_ARBITER_FEE_BPS.
    function setArbiterFeeBps(uint16 newArbiterFeeBps) external;
    /// @notice Requirements: admin; non-zero.
    function setOracle(address newOracle) external;
    /// @notice Requirements: admin; non-zero (the thresholds and fee are read from it).
    function setRouter(address newRouter) external;

    // =============================================================================================
    //                                            VIEWS
    // =============================================================================================

    /// @notice An agreement's full state: the agreement and all its milestones.
    function agreementState(uint256 agreementId)
        external
        view
        returns (Agreement memory agreement, Milestone[] memory milestones);
    function milestoneOf(uint256 agreementId, uint256 milestone) external view returns (Milestone memory);
    /// @notice The agreement and milestone a gate id was issued for.
    function gate(uint256 gateId) external view returns (uint256 agreementId, uint256 milestone);
    function agreementCount() external view returns (uint256);
    function gateCount() external view returns (uint256);
    function arbiterFeeBps() external view returns (uint16);
    /// @notice Whether a ruling on the milestone has already paid the arbiter fee; later rulings on
    /// it pay none.
    function arbiterFeePaid(uint256 agreementId, uint256 milestone) external view returns (bool);
    function windows() external view returns (Windows memory);
    function oracle() external view returns (address);
    function router() external view returns (address);
}
