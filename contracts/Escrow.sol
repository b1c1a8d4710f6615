// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {IEscrow} from "./interfaces/IEscrow.sol";
import {IRiskGated} from "./interfaces/IRiskGated.sol";
import {IPaymentRouter} from "./interfaces/IPaymentRouter.sol";
import {RiskGatedVault} from "./vault/RiskGatedVault.sol";

/// @title Escrow
/// @notice Milestone escrow for supply-chain finance behind the Verdict risk gate. See {IEscrow}
/// for the state machine and docs/escrow.md for who may do what.
///
/// Money conservation, per token `t` (address(0) = ETH), at every block:
///
///   balance(this, t) == sum(amount of milestones in Funded, Requested, Gated, Held, Flagged,
///                           Disputed, for agreements in t)
///                     + sum(credited[account][t]) + feesAccrued[t]
///
/// Protocol fees (the router's `feeBps`, taken from every release to a supplier) accrue here
/// and are swept to the treasury by anyone; a push that fails is credited for `withdraw`.
/// Credits, fees, the treasury, the pause and the score-to-band rule live in {RiskGatedVault},
/// shared with PaymentRouter; the thresholds and fee are the router's ({IPaymentRouter-riskPolicy}).
contract Escrow is IEscrow, RiskGatedVault, EIP712, Nonces {
    using SafeERC20 for IERC20;

    // =============================================================================================
    //                                          CONSTANTS
    // =============================================================================================

    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    bytes32 public constant CANCEL_TYPEHASH =
        keccak256("CancelMilestone(uint256 agreementId,uint256 milestone,uint256 nonce,uint256 deadline)");

    uint256 public constant MAX_MILESTONES = 64;
    uint16 public constant MAX_ARBITER_FEE_BPS = 1000;
    uint48 public constant MIN_WINDOW = 1 minutes;
    uint48 public constant MAX_WINDOW = 30 days;
    /// @dev Gas for reading a token's push budget from the router (a view of one storage slot,
    /// about 2,500 gas cold; 30,000 leaves room for a router behind a proxy).
    uint256 private constant _ROUTER_READ_GAS = 30_000;

    // =============================================================================================
    //                                           STORAGE
    // =============================================================================================

    /// @dev Where a gate id points; one slot.
    struct GateRef {
        uint64 agreementId;
        uint32 milestone;
        uint16 heldScore; // the verdict score of a Held release, for the rejection event
    }

    address private _oracle;
    uint48 private _gateCount;
    uint16 private _arbiterFeeBps;

    address private _router;
    uint64 private _agreementCount;

    Windows private _windows;

    mapping(uint256 agreementId => Agreement) private _agreements;
    mapping(uint256 agreementId => mapping(uint256 index => Milestone)) private _milestones;
    mapping(uint256 gateId => GateRef) private _gates;
    /// @dev Bit i set: milestone i of the agreement has paid its one arbiter fee (MAX_MILESTONES
    /// is 64, so one word per agreement holds them all).
    mapping(uint256 agreementId => uint256) private _arbiterFeePaid;

    // =============================================================================================
    //                                         CONSTRUCTOR
    // =============================================================================================

    /// @param admin DEFAULT_ADMIN_ROLE (the deployer, later the DAO timelock)
    /// @param router_ the PaymentRouter whose thresholds and fee are the policy
    /// @param oracle_ the RiskOracle allowed to apply verdicts
    /// @param treasury_ where swept protocol fees go
    constructor(address admin, address router_, address oracle_, address treasury_) RiskGatedVault(treasury_)
        EIP712("Verdict Escrow", "1")
    {
        if (admin == address(0) || router_ == address(0) || oracle_ == address(0) || treasury_ == address(0)) {
            revert EscrowZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _router = router_;
        _oracle = oracle_;
        _arbiterFeeBps = 100;
        _windows = Windows({confirmGrace: 3 days, verdict: 1 days, review: 3 days, contest: 3 days, ruling: 7 days});
    }

    // =============================================================================================
    //                                         AGREEMENTS
    // =============================================================================================

    /// @inheritdoc IEscrow
    function createAgreement(address supplier, address token, uint256[] calldata amounts, uint64[] calldata dueDates)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint256 agreementId)
    {
        if (supplier == address(0)) revert EscrowZeroAddress();
        if (supplier == msg.sender) revert EscrowSelfDeal();
        uint256 count = amounts.length;
        if (count == 0 || count > MAX_MILESTONES) revert EscrowInvalidMilestones(count);
        if (dueDates.length != count) revert EscrowLengthMismatch();

        uint256 total = 0;
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] == 0) revert EscrowZeroAmount(i);
            if (dueDates[i] <= block.timestamp) revert EscrowInvalidDueDate(i, dueDates[i]);
            total += amounts[i];
        }
        if (total > type(uint96).max) revert EscrowAmountTooLarge(total);

        uint256 received = _collect(token, total);

        agreementId = ++_agreementCount;
        _agreements[agreementId] = Agreement({
            buyer: msg.sender,
            milestoneCount: uint32(count),
            createdAt: uint48(block.timestamp),
            supplier: supplier,
            token: token
        });
        mapping(uint256 => Milestone) storage milestones = _milestones[agreementId];
        uint256 allocated = 0;
        for (uint256 i = 0; i < count; ++i) {
            // Fee-on-transfer: what arrived is split pro rata, the rounding remainder to the last.
            // An exact comparison of our own two amounts, not of a balance anyone can move.
            // slither-disable-next-line incorrect-equality
            uint256 amount = received == total
                ? amounts[i]
                : (i == count - 1 ? received - allocated : (amounts[i] * received) / total);
            allocated += amount;
            milestones[i] = Milestone({
                amount: uint96(amount),
                dueDate: uint48(dueDates[i]),
                deadline: 0,
                gateId: 0,
                status: MilestoneStatus.Funded
            });
        }
        emit AgreementCreated(agreementId, msg.sender, supplier, token, received, count);
    }

    /// @inheritdoc IEscrow
    function requestRelease(uint256 agreementId, uint256 milestone) external nonReentrant whenNotPaused {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        if (msg.sender != a.supplier) revert EscrowNotSupplier(msg.sender);
        _requireStatus(agreementId, milestone, ms, MilestoneStatus.Funded);

        uint48 autoConfirmAt = uint48(block.timestamp) + _windows.confirmGrace;
        ms.status = MilestoneStatus.Requested;
        ms.deadline = autoConfirmAt;
        emit ReleaseProposed(agreementId, milestone, autoConfirmAt);
    }

    /// @inheritdoc IEscrow
    function confirmRelease(uint256 agreementId, uint256 milestone)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 gateId)
    {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        if (msg.sender != a.buyer) revert EscrowNotBuyer(msg.sender);
        _requireStatus(agreementId, milestone, ms, MilestoneStatus.Requested);

        gateId = _openGate(agreementId, milestone, a, ms);
        emit ReleaseConfirmed(agreementId, milestone, msg.sender, true);
    }

    /// @inheritdoc IEscrow
    function autoConfirmRelease(uint256 agreementId, uint256 milestone)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 gateId)
    {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        _requireStatus(agreementId, milestone, ms, MilestoneStatus.Requested);
        if (block.timestamp < ms.deadline) revert EscrowTooEarly(ms.deadline);

        gateId = _openGate(agreementId, milestone, a, ms);
        emit ReleaseConfirmed(agreementId, milestone, msg.sender, false);
    }

    // =============================================================================================
    //                                          RISK GATE
    // =============================================================================================

    /// @inheritdoc IRiskGated
    function gateStatus(uint256 gateId) public view returns (GateStatus) {
        if (gateId == 0 || gateId > _gateCount) return GateStatus.Unknown;
        GateRef memory g = _gates[gateId];
        Milestone memory ms = _milestones[g.agreementId][g.milestone];
        if (ms.gateId != gateId || ms.status != MilestoneStatus.Gated) return GateStatus.Decided;
        return block.timestamp > ms.deadline ? GateStatus.Expired : GateStatus.Awaiting;
    }

    /// @notice Applies the final risk score to a release: below the router's review threshold the
    /// supplier is paid (less the router's fee, accrued here); in the review band, or while paused,
    /// the release is Held for a reviewer; at or above the reject threshold it is Flagged (the
    /// money stays in escrow). Returns the gate status before the call; applied only if Awaiting.
    /// Never reverts because of the supplier or the token: a failed push is credited.
    ///
    /// Requirements:
    /// - the caller is the RiskOracle.
    function applyVerdict(uint256 gateId, uint16 score, Terms calldata) external nonReentrant returns (GateStatus status) {
        if (msg.sender != _oracle) revert EscrowOnlyOracle(msg.sender);
        status = gateStatus(gateId);
        if (status != GateStatus.Awaiting) return status;

        GateRef memory g = _gates[gateId];
        uint256 agreementId = g.agreementId;
        uint256 milestone = g.milestone;
        Agreement storage a = _agreements[agreementId];
        Milestone storage ms = _milestones[agreementId][milestone];
        RiskPolicy memory policy = IPaymentRouter(_router).riskPolicy();
        Band band = _band(score, policy.reviewThreshold, policy.rejectThreshold);

        if (band == Band.Reject) {
            _flag(gateId, agreementId, milestone, ms, score);
        } else if (band == Band.Hold) {
            uint48 reviewDeadline = uint48(block.timestamp) + _windows.review;
            ms.status = MilestoneStatus.Held;
            ms.deadline = reviewDeadline;
            _gates[gateId].heldScore = score;
            emit ReleaseHeld(gateId, agreementId, milestone, score, reviewDeadline);
        } else {
            (address supplier, address token, uint256 payout) =
                _settle(gateId, agreementId, milestone, a, ms, policy.feeBps);
            _push(token, supplier, payout);
        }
    }

    /// @inheritdoc IEscrow
    function reviewRelease(uint256 gateId, bool approve) external nonReentrant onlyRole(REVIEWER_ROLE) {
        if (gateId == 0 || gateId > _gateCount) revert EscrowUnknownGate(gateId);
        GateRef memory g = _gates[gateId];
        uint256 agreementId = g.agreementId;
        uint256 milestone = g.milestone;
        Milestone storage ms = _milestones[agreementId][milestone];
        if (ms.gateId != gateId || ms.status != MilestoneStatus.Held) {
            revert EscrowInvalidStatus(agreementId, milestone, ms.status);
        }
        if (block.timestamp > ms.deadline) revert EscrowDeadlinePassed(ms.deadline);

        if (approve) {
            _requireNotPaused();
            uint16 feeBps = IPaymentRouter(_router).feeBps();
            (address supplier, address token, uint256 payout) =
                _settle(gateId, agreementId, milestone, _agreements[agreementId], ms, feeBps);
            emit ReleaseReviewed(gateId, msg.sender, true);
            _push(token, supplier, payout);
        } else {
            _flag(gateId, agreementId, milestone, ms, g.heldScore);
            emit ReleaseReviewed(gateId, msg.sender, false);
        }
    }

    /// @inheritdoc IEscrow
    function expireRelease(uint256 agreementId, uint256 milestone) external nonReentrant {
        (, Milestone storage ms) = _load(agreementId, milestone);
        MilestoneStatus status = ms.status;
        if (status != MilestoneStatus.Gated && status != MilestoneStatus.Held) {
            revert EscrowInvalidStatus(agreementId, milestone, status);
        }
        if (block.timestamp <= ms.deadline) revert EscrowTooEarly(ms.deadline);

        ms.status = MilestoneStatus.Funded;
        ms.deadline = 0;
        emit ReleaseExpired(ms.gateId, agreementId, milestone);
    }

    // =============================================================================================
    //                                          DISPUTES
    // =============================================================================================

    /// @inheritdoc IEscrow
    function openDispute(uint256 agreementId, uint256 milestone) external nonReentrant {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        if (msg.sender != a.buyer && msg.sender != a.supplier) revert EscrowNotParty(msg.sender);
        MilestoneStatus status = ms.status;
        if (
            status != MilestoneStatus.Funded && status != MilestoneStatus.Requested && status != MilestoneStatus.Gated
                && status != MilestoneStatus.Held && status != MilestoneStatus.Flagged
        ) revert EscrowInvalidStatus(agreementId, milestone, status);

        uint48 rulingDeadline = uint48(block.timestamp) + _windows.ruling;
        ms.status = MilestoneStatus.Disputed;
        ms.deadline = rulingDeadline;
        emit DisputeOpened(agreementId, milestone, msg.sender, rulingDeadline);
    }

    /// @inheritdoc IEscrow
    function resolveDispute(uint256 agreementId, uint256 milestone, uint16 supplierBps)
        external
        nonReentrant
        onlyRole(ARBITER_ROLE)
    {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        address buyer = a.buyer;
        if (msg.sender == buyer || msg.sender == a.supplier) revert EscrowArbiterIsParty(msg.sender);
        if (ms.status != MilestoneStatus.Disputed) revert EscrowNotDisputed(agreementId, milestone);
        if (block.timestamp > ms.deadline) revert EscrowDeadlinePassed(ms.deadline);
        if (supplierBps > BPS) revert EscrowInvalidBps(supplierBps);
        if (supplierBps != 0) _requireNotPaused();

        uint256 amount = ms.amount;
        // One paid ruling per milestone (issue 13.4): a dispute reopened on the share a ruling sent
        // back through the gate is ruled without a fee, so the sum of arbiter fees on a milestone
        // is at most arbiterFeeBps of what it held when first ruled on.
        uint256 arbiterFee = 0;
        uint256 paid = _arbiterFeePaid[agreementId];
        uint256 bit = 1 << milestone; // milestone < MAX_MILESTONES = 64 (checked by _load)
        if (paid & bit == 0) {
            _arbiterFeePaid[agreementId] = paid | bit;
            arbiterFee = (amount * _arbiterFeeBps) / BPS;
        }
        uint256 rest = amount - arbiterFee;
        uint256 supplierAmount = (rest * supplierBps) / BPS;
        uint256 buyerAmount = rest - supplierAmount;

        if (supplierAmount == 0) {
            ms.status = MilestoneStatus.Refunded;
            ms.deadline = 0;
        } else {
            // The supplier's share is a release like any other: it passes the risk gate.
            ms.amount = uint96(supplierAmount);
            _openGate(agreementId, milestone, a, ms);
        }
        emit DisputeResolved(agreementId, milestone, msg.sender, supplierBps, supplierAmount, buyerAmount, arbiterFee);

        address token = a.token;
        _push(token, msg.sender, arbiterFee);
        _push(token, buyer, buyerAmount);
    }

    /// @inheritdoc IEscrow
    function reclaim(uint256 agreementId, uint256 milestone) external nonReentrant {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        MilestoneStatus status = ms.status;
        if (status != MilestoneStatus.Disputed && status != MilestoneStatus.Flagged) {
            revert EscrowInvalidStatus(agreementId, milestone, status);
        }
        if (block.timestamp <= ms.deadline) revert EscrowTooEarly(ms.deadline);

        uint256 amount = ms.amount;
        address buyer = a.buyer;
        ms.status = MilestoneStatus.Refunded;
        ms.deadline = 0;
        emit MilestoneReclaimed(agreementId, milestone, buyer, amount);
        _push(a.token, buyer, amount);
    }

    /// @inheritdoc IEscrow
    function cancelMilestone(
        uint256 agreementId,
        uint256 milestone,
        uint256 deadline,
        bytes calldata buyerSignature,
        bytes calldata supplierSignature
    ) external nonReentrant {
        (Agreement storage a, Milestone storage ms) = _load(agreementId, milestone);
        _requireStatus(agreementId, milestone, ms, MilestoneStatus.Funded);
        if (block.timestamp > deadline) revert EscrowSignatureExpired(deadline);
        address buyer = a.buyer;
        _useCancelSignature(buyer, agreementId, milestone, deadline, buyerSignature);
        _useCancelSignature(a.supplier, agreementId, milestone, deadline, supplierSignature);

        uint256 amount = ms.amount;
        ms.status = MilestoneStatus.Cancelled;
        emit MilestoneCancelled(agreementId, milestone, amount);
        _push(a.token, buyer, amount);
    }

    // =============================================================================================
    //                                       ADMINISTRATION
    // =============================================================================================

    /// @inheritdoc IEscrow
    function setWindows(Windows calldata newWindows) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkWindow(newWindows.confirmGrace);
        _checkWindow(newWindows.verdict);
        _checkWindow(newWindows.review);
        _checkWindow(newWindows.contest);
        _checkWindow(newWindows.ruling);
        _windows = newWindows;
        emit WindowsChanged(newWindows);
    }

    /// @inheritdoc IEscrow
    function setArbiterFeeBps(uint16 newArbiterFeeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newArbiterFeeBps > MAX_ARBITER_FEE_BPS) revert EscrowFeeTooHigh(newArbiterFeeBps);
        _arbiterFeeBps = newArbiterFeeBps;
        emit ArbiterFeeChanged(newArbiterFeeBps);
    }

    /// @inheritdoc IEscrow
    function setOracle(address newOracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newOracle == address(0)) revert EscrowZeroAddress();
        _oracle = newOracle;
        emit OracleChanged(newOracle);
    }

    /// @inheritdoc IEscrow
    function setRouter(address newRouter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newRouter == address(0)) revert EscrowZeroAddress();
        _router = newRouter;
        emit RouterChanged(newRouter);
    }

    // =============================================================================================
    //                                            VIEWS
    // =============================================================================================

    /// @inheritdoc IEscrow
    function agreementState(uint256 agreementId)
        external
        view
        returns (Agreement memory agreement, Milestone[] memory milestones)
    {
        agreement = _agreements[agreementId];
        if (agreement.buyer == address(0)) revert EscrowUnknownAgreement(agreementId);
        uint256 count = agreement.milestoneCount;
        milestones = new Milestone[](count);
        for (uint256 i = 0; i < count; ++i) {
            milestones[i] = _milestones[agreementId][i];
        }
    }

    /// @inheritdoc IEscrow
    function milestoneOf(uint256 agreementId, uint256 milestone) external view returns (Milestone memory) {
        (, Milestone storage ms) = _load(agreementId, milestone);
        return ms;
    }

    /// @inheritdoc IEscrow
    function gate(uint256 gateId) external view returns (uint256 agreementId, uint256 milestone) {
        if (gateId == 0 || gateId > _gateCount) revert EscrowUnknownGate(gateId);
        GateRef memory g = _gates[gateId];
        return (g.agreementId, g.milestone);
    }

    /// @notice The EIP-712 digest a party signs to cancel a milestone, for its current nonce.
    function cancelDigest(uint256 agreementId, uint256 milestone, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CANCEL_TYPEHASH, agreementId, milestone, nonce, deadline)));
    }

    /// @notice The EIP-712 domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function agreementCount() external view returns (uint256) {
        return _agreementCount;
    }

    function gateCount() external view returns (uint256) {
        return _gateCount;
    }

    function arbiterFeeBps() external view returns (uint16) {
        return _arbiterFeeBps;
    }

    /// @inheritdoc IEscrow
    function arbiterFeePaid(uint256 agreementId, uint256 milestone) external view returns (bool) {
        return milestone < MAX_MILESTONES && _arbiterFeePaid[agreementId] & (1 << milestone) != 0;
    }

    function windows() external view returns (Windows memory) {
        return _windows;
    }

    function oracle() external view returns (address) {
        return _oracle;
    }

    function router() external view returns (address) {
        return _router;
    }


    // =============================================================================================
    //                                          INTERNALS
    // =============================================================================================

    /// @dev Takes `total` from the sender; returns what actually arrived (fee-on-transfer aware).
    /// The pull precedes the bookkeeping because the amount received is only known after it;
    /// `nonReentrant` on the caller makes that safe.
    function _collect(address token, uint256 total) private returns (uint256 received) {
        if (token == address(0)) {
            if (msg.value != total) revert EscrowValueMismatch(total, msg.value);
            return total;
        }
        if (msg.value != 0) revert EscrowUnexpectedValue();
        if (token.code.length == 0) revert EscrowNotAToken(token);
        if (_tokenPushGas(token) == 0) revert EscrowTokenNotListed(token);
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), total);
        received = IERC20(token).balanceOf(address(this)) - before;
        // Zero received is the one case to reject; any positive amount is accounted as it is.
        // slither-disable-next-line incorrect-equality
        if (received == 0) revert EscrowNothingReceived();
        if (received > total) revert EscrowValueMismatch(total, received);
    }

    /// @dev Issues a new gate id for the milestone's current amount and emits ReleaseRequested.
    function _openGate(uint256 agreementId, uint256 milestone, Agreement storage a, Milestone storage ms)
        private
        returns (uint256 gateId)
    {
        uint48 id = ++_gateCount;
        _gates[id] = GateRef({agreementId: uint64(agreementId), milestone: uint32(milestone), heldScore: 0});
        uint48 deadline = uint48(block.timestamp) + _windows.verdict;
        ms.status = MilestoneStatus.Gated;
        ms.deadline = deadline;
        ms.gateId = id;
        emit ReleaseRequested(id, agreementId, milestone, a.buyer, a.supplier, a.token, ms.amount, deadline);
        return id;
    }

    /// @dev Marks the milestone Released and accrues the protocol fee; the caller pushes `payout`.
    function _settle(
        uint256 gateId,
        uint256 agreementId,
        uint256 milestone,
        Agreement storage a,
        Milestone storage ms,
        uint256 feeBps
    ) private returns (address supplier, address token, uint256 payout) {
        // the rate comes from the router; _accrueFee caps it at this contract's MAX_FEE_BPS
        uint256 amount = ms.amount;
        supplier = a.supplier;
        token = a.token;

        ms.status = MilestoneStatus.Released;
        ms.deadline = 0;
        uint256 fee = _accrueFee(token, amount, feeBps);
        payout = amount - fee;
        emit ReleaseSettled(gateId, agreementId, milestone, supplier, payout, fee);
    }

    function _flag(uint256 gateId, uint256 agreementId, uint256 milestone, Milestone storage ms, uint16 score)
        private
    {
        uint48 contestDeadline = uint48(block.timestamp) + _windows.contest;
        ms.status = MilestoneStatus.Flagged;
        ms.deadline = contestDeadline;
        emit ReleaseRejected(gateId, agreementId, milestone, score, contestDeadline);
    }

    /// @dev Sends `amount` to `to` without ever reverting ({RiskGatedVault-_pushOrCredit}), a
    /// token with its budget on the router's token list ({_tokenPushGas}); a failed push is
    /// credited and reported with `Credited`. Callers are `nonReentrant` and have finished their
    /// effects.
    function _push(address token, address to, uint256 amount) private {
        if (amount == 0) return;
        uint256 pushGas = token == address(0) ? 0 : _tokenPushGas(token);
        if (!_pushOrCredit(token, to, amount, pushGas)) {
            emit Credited(to, token, amount);
        }
    }

    /// @dev The push budget of `token` on the router's token list (issue 13.6; one list for the
    /// router and the escrow, set by the DAO): 0 when the token is not listed. A router that
    /// reverts, has no code, answers short or takes more than {_ROUTER_READ_GAS} answers 0 too, so
    /// a broken or replaced router can never trap a payout (it is then credited for {withdraw});
    /// an answer above {TOKEN_PUSH_GAS} is capped by {_pushOrCredit}. Copies at most one word of
    /// return data, into scratch space.
    function _tokenPushGas(address token) private view returns (uint256 pushGas) {
        address router_ = _router;
        bytes4 selector = IPaymentRouter.tokenPushGas.selector;
        uint256 readGas = _ROUTER_READ_GAS;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, and(token, shr(96, not(0))))
            let ok := staticcall(readGas, router_, 0x00, 0x24, 0x00, 0x20)
            if and(ok, gt(returndatasize(), 0x1f)) { pushGas := mload(0x00) }
        }
    }

    function _useCancelSignature(
        address signer,
        uint256 agreementId,
        uint256 milestone,
        uint256 deadline,
        bytes calldata signature
    ) private {
        bytes32 digest = cancelDigest(agreementId, milestone, _useNonce(signer), deadline);
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) revert EscrowInvalidSignature(signer);
    }

    function _load(uint256 agreementId, uint256 milestone)
        private
        view
        returns (Agreement storage a, Milestone storage ms)
    {
        a = _agreements[agreementId];
        if (a.buyer == address(0)) revert EscrowUnknownAgreement(agreementId);
        if (milestone >= a.milestoneCount) revert EscrowUnknownMilestone(agreementId, milestone);
        ms = _milestones[agreementId][milestone];
    }

    function _requireStatus(uint256 agreementId, uint256 milestone, Milestone storage ms, MilestoneStatus expected)
        private
        view
    {
        if (ms.status != expected) revert EscrowInvalidStatus(agreementId, milestone, ms.status);
    }

    function _checkWindow(uint48 window) private pure {
        if (window < MIN_WINDOW || window > MAX_WINDOW) revert EscrowInvalidWindow(window);
    }

    function _revertNothingToWithdraw() internal pure override {
        revert EscrowNothingToWithdraw();
    }

    function _revertZeroAddress() internal pure override {
        revert EscrowZeroAddress();
    }
}
