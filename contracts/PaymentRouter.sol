// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IPaymentRouter} from "./interfaces/IPaymentRouter.sol";
import {IRiskGated} from "./interfaces/IRiskGated.sol";
import {RiskGatedVault} from "./vault/RiskGatedVault.sol";

/// @title PaymentRouter
/// @notice Escrows ETH and ERC-20 payments until the RiskOracle applies a final risk verdict:
/// a low score settles (payee paid, protocol fee accrued for the treasury), a middling score holds
/// the payment for a human reviewer, a high score refunds the payer. With no verdict by the
/// deadline anyone may reclaim the payment for the payer (fail closed).
///
/// Payouts never revert a verdict batch: an ETH push and a token push are both gas-limited calls
/// ({RiskGatedVault-_pushOrCredit}); when either fails, the amount is credited to the recipient
/// for {withdraw}. Credits, fees, the treasury and the pause live in {RiskGatedVault}, shared
/// with Escrow.
///
/// Storage: a payment takes one slot (issue 16.4): the first 160 bits of its content hash
/// (keccak256(abi.encode(payer, payee, token, amount)), the hash issue 17's signed reports bind each
/// item to) + uint40 deadline + status + uint16 token index + uint16 score + uint16 fee quoted at pay
/// time. Payer, payee and amount live in the `PaymentRequested` log; whoever moves the money passes
/// them back ({applyVerdict}, {reclaim}) and the router pays only against terms that hash to the
/// stored 160 bits. A held payment's terms are written out when it is held, so that a reviewer
/// ({review}) needs only the id. Only tokens the DAO lists
/// ({setToken}, issue 13.6) may be paid in; a listed token gets an index (index 0 is ETH) that it
/// keeps when delisted, and a push budget its payouts are pushed with. The Escrow reads the same
/// list ({tokenPushGas}): one list for operators.
///
/// No work a payment does not need: `pay` reads one slot of schedule (id counter, windows, fee and
/// the number of blocked accounts, so an empty blocklist costs no lookup) and one of the token's
/// listing; a token the DAO declared exact-transfer ({setTokenExactTransfer}) is pulled without
/// measuring the router's balance around the pull.
contract PaymentRouter is IPaymentRouter, RiskGatedVault {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Bounds of the deadline and review windows.
    uint64 public constant MIN_WINDOW = 1 minutes;
    uint64 public constant MAX_WINDOW = 30 days;
    /// @notice The ETH push gas, under the name this contract's ABI has always had.
    /// See {RiskGatedVault-ETH_PUSH_GAS}.
    uint256 public constant PUSH_GAS = ETH_PUSH_GAS;

    /// @dev Scores are the model's legitimate-traffic quantile in bps (docs/model-card.md): 9,900 holds
    /// about 1% of legitimate payments for review and 9,990 refunds about 0.1%, under any approved model.
    uint16 private constant _DEFAULT_REVIEW_THRESHOLD = 9900;
    uint16 private constant _DEFAULT_REJECT_THRESHOLD = 9990;
    uint16 private constant _DEFAULT_FEE_BPS = 30;
    uint40 private constant _DEFAULT_DEADLINE_WINDOW = 1 hours;
    uint40 private constant _DEFAULT_REVIEW_WINDOW = 3 days;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One payment in one slot.
    struct PaymentRecord {
        bytes20 terms; // the first 160 bits of keccak256(abi.encode(Terms)): {_termsHash}
        uint40 deadline;
        Status status;
        uint16 tokenIndex;
        uint16 score; // the verdict's score once one was applied, 0 before
        uint16 feeBps; // the fee in force when the payment was made: the one it settles at
    }

    /// @dev What a verdict needs, in one slot.
    struct Policy {
        address oracle;
        uint16 reviewThreshold;
        uint16 rejectThreshold;
    }

    /// @dev What a payment needs, in one slot: the id counter, the windows, the fee it is quoted
    /// and how many accounts are blocked (read by `pay` anyway, so quoting the fee costs no extra
    /// storage read, and while nobody is blocked the blocklist costs none either).
    struct Schedule {
        uint64 paymentCount;
        uint40 deadlineWindow;
        uint40 reviewWindow;
        uint16 feeBps;
        uint32 blockedCount;
        bool paused; // the guardian pause ({paused}), here so that `pay` reads it with the rest
    }

    /// @dev A held payment's terms, written when it is held so that {review} needs only the id.
    struct HeldTerms {
        address payer;
        uint96 amount;
        address payee;
    }

    /// @dev The shared facts of a `pay` or `payMany` call (in memory only).
    struct Batch {
        address token;
        uint16 tokenIndex;
        uint16 feeBps;
        uint40 deadline;
        uint256 total;
        uint256 received;
    }

    Policy private _policy;
    Schedule private _schedule;

    mapping(uint256 id => PaymentRecord) private _payments;
    mapping(uint256 id => HeldTerms) private _held;
    /// @dev A token by index, with its push budget (0: delisted), in one slot: what a payout reads.
    struct TokenSlot {
        address token;
        uint32 pushGas;
    }

    /// @dev A token by address, with its push budget (0: not listed) and whether the DAO declared
    /// it exact-transfer, in one slot: what `pay` reads.
    struct TokenEntry {
        uint16 index;
        uint32 pushGas;
        bool exactTransfer;
    }

    /// @dev Index 0 is ETH (address(0)); tokens get 1, 2, ... when first listed, and keep it.
    TokenSlot[] private _tokens;
    mapping(address token => TokenEntry) private _tokenEntries;

    mapping(address account => bool) private _blocked;

    /*//////////////////////////////////////////////////////////////
                               MODIFIERS
    //////////////////////////////////////////////////////////////*/

    modifier onlyOracle() {
        if (msg.sender != _policy.oracle) revert PaymentRouterOnlyOracle(msg.sender);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin holder of DEFAULT_ADMIN_ROLE (the policy owner; later the DAO timelock)
    /// @param oracle_ the RiskOracle allowed to apply verdicts
    /// @param treasury_ where swept protocol fees go
    constructor(address admin, address oracle_, address treasury_) RiskGatedVault(treasury_) {
        if (admin == address(0) || oracle_ == address(0) || treasury_ == address(0)) {
            revert PaymentRouterZeroAddress();
        }
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _policy = Policy({
            oracle: oracle_,
            reviewThreshold: _DEFAULT_REVIEW_THRESHOLD,
            rejectThreshold: _DEFAULT_REJECT_THRESHOLD
        });
        _schedule = Schedule({
            paymentCount: 0,
            deadlineWindow: _DEFAULT_DEADLINE_WINDOW,
            reviewWindow: _DEFAULT_REVIEW_WINDOW,
            feeBps: _DEFAULT_FEE_BPS,
            blockedCount: 0,
            paused: false
        });
        _tokens.push(TokenSlot({token: address(0), pushGas: 0}));
    }

    /*//////////////////////////////////////////////////////////////
                                PAYING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPaymentRouter
    function pay(address payee, address token, uint256 amount, bytes32 ref)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint256 id)
    {
        Schedule memory schedule = _schedule;
        bool screened = schedule.blockedCount != 0;
        if (screened) _checkParty(msg.sender);
        _checkPayee(payee, screened);
        _checkAmount(amount);

        uint16 tokenIndex = 0; // ETH
        uint96 received = 0;
        if (token == address(0)) {
            if (msg.value != amount) revert PaymentRouterValueMismatch(amount, msg.value);
            received = uint96(amount); // fits: checked by _checkAmount
        } else {
            if (msg.value != 0) revert PaymentRouterUnexpectedValue();
            TokenEntry memory entry = _listedToken(token);
            tokenIndex = entry.index;
            received = _pullToken(token, amount, entry.exactTransfer);
        }

        id = schedule.paymentCount + 1;
        _schedule.paymentCount = uint64(id);
        Batch memory batch = Batch({
            token: token,
            tokenIndex: tokenIndex,
            feeBps: schedule.feeBps,
            deadline: uint40(block.timestamp) + schedule.deadlineWindow,
            total: received,
            received: received
        });
        _record(id, payee, received, ref, batch);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev For a fee-on-transfer token, what arrived is split pro rata (rounded down), the last
    /// payment taking the remainder.
    function payMany(address[] calldata payees, address token, uint256[] calldata amounts, bytes32[] calldata refs)
        external
        payable
        nonReentrant
        whenNotPaused
        returns (uint256 firstId)
    {
        uint256 n = payees.length;
        if (n == 0 || amounts.length != n || refs.length != n) revert PaymentRouterLengthMismatch();
        Schedule memory schedule = _schedule;
        bool screened = schedule.blockedCount != 0;
        if (screened) _checkParty(msg.sender);

        Batch memory batch = Batch({token: token, tokenIndex: 0, feeBps: 0, deadline: 0, total: 0, received: 0});
        for (uint256 i = 0; i < n; ++i) {
            _checkPayee(payees[i], screened);
            _checkAmount(amounts[i]);
            batch.total += amounts[i];
        }

        batch.received = batch.total;
        if (token == address(0)) {
            if (msg.value != batch.total) revert PaymentRouterValueMismatch(batch.total, msg.value);
        } else {
            if (msg.value != 0) revert PaymentRouterUnexpectedValue();
            TokenEntry memory entry = _listedToken(token);
            batch.tokenIndex = entry.index;
            batch.received = _pullTokenUnbounded(token, batch.total, entry.exactTransfer);
        }

        firstId = schedule.paymentCount + 1;
        _schedule.paymentCount = uint64(schedule.paymentCount + n);
        batch.deadline = uint40(block.timestamp) + schedule.deadlineWindow;
        batch.feeBps = schedule.feeBps;
        _recordMany(firstId, batch, payees, amounts, refs);
    }

    /*//////////////////////////////////////////////////////////////
                               THE GATE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskGated
    /// @dev `Awaiting` while Pending and not past the deadline; `Expired` when Pending past it;
    /// `Decided` once Held, Settled or Refunded.
    function gateStatus(uint256 id) public view returns (GateStatus) {
        return _gateStatus(_payments[id]);
    }

    /// @inheritdoc IRiskGated
    /// @dev `terms` are checked against the stored hash before anything moves: other terms (another
    /// payee, payer, token or amount) answer `Mismatch` and change nothing. While paused, a verdict
    /// that would settle holds the payment instead (a reviewer decides after unpause); a rejection
    /// still refunds.
    function applyVerdict(uint256 id, uint16 score, Terms calldata terms)
        external
        nonReentrant
        onlyOracle
        returns (GateStatus prior)
    {
        PaymentRecord memory p = _payments[id];
        prior = _gateStatus(p);
        if (prior != GateStatus.Awaiting) return prior;
        if (p.terms != _termsHash(terms)) return GateStatus.Mismatch;

        Policy memory policy = _policy;
        Band band = _band(score, policy.reviewThreshold, policy.rejectThreshold);
        if (band == Band.Reject) {
            _refund(id, p, terms.payer, terms.amount, score);
        } else if (band == Band.Hold) {
            _hold(id, p, terms, score);
        } else {
            _settle(id, p, terms.payee, terms.amount, score);
        }
    }

    /*//////////////////////////////////////////////////////////////
                            REVIEW, RECLAIM
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPaymentRouter
    /// @dev The review window closes where {reclaim} opens (after deadline + review window), so a
    /// late approval can never race the payer's reclaim: at any time exactly one of them is open.
    function review(uint256 id, bool approve) external nonReentrant onlyRole(REVIEWER_ROLE) {
        PaymentRecord memory p = _payments[id];
        if (p.status == Status.None) revert PaymentRouterUnknownPayment(id);
        if (p.status != Status.Held) revert PaymentRouterNotHeld(id);
        uint256 reviewDeadline = uint256(p.deadline) + _schedule.reviewWindow;
        if (block.timestamp > reviewDeadline) revert PaymentRouterReviewWindowPassed(id, reviewDeadline);
        HeldTerms memory held = _held[id];
        delete _held[id];
        if (approve) {
            _requireNotPaused();
            _settle(id, p, held.payee, held.amount, p.score);
        } else {
            _refund(id, p, held.payer, held.amount, p.score);
        }
        emit PaymentReviewed(id, msg.sender, approve);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev The refund's `PaymentRefunded` carries the stored score: 0 when no verdict was applied.
    ///
    /// Requirements:
    /// - the payment exists and `terms` are its terms (else `PaymentRouterTermsMismatch`);
    /// - it is Pending past its deadline, or Held past its deadline plus the review window.
    function reclaim(uint256 id, Terms calldata terms) external nonReentrant {
        PaymentRecord memory p = _payments[id];
        if (p.status == Status.None) revert PaymentRouterUnknownPayment(id);
        if (p.terms != _termsHash(terms)) revert PaymentRouterTermsMismatch(id);
        uint256 reclaimableAfter = 0;
        if (p.status == Status.Pending) {
            reclaimableAfter = p.deadline;
        } else if (p.status == Status.Held) {
            reclaimableAfter = uint256(p.deadline) + _schedule.reviewWindow;
        } else {
            revert PaymentRouterNotReclaimable(id);
        }
        if (block.timestamp <= reclaimableAfter) revert PaymentRouterNotReclaimable(id);
        if (p.status == Status.Held) delete _held[id];
        _refund(id, p, terms.payer, terms.amount, p.score);
    }

    /*//////////////////////////////////////////////////////////////
                                POLICY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPaymentRouter
    function setThresholds(uint16 newReviewThreshold, uint16 newRejectThreshold)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (newReviewThreshold >= newRejectThreshold || newRejectThreshold > BPS) {
            revert PaymentRouterInvalidThresholds(newReviewThreshold, newRejectThreshold);
        }
        _policy.reviewThreshold = newReviewThreshold;
        _policy.rejectThreshold = newRejectThreshold;
        emit ThresholdsChanged(newReviewThreshold, newRejectThreshold);
    }

    /// @inheritdoc IPaymentRouter
    function setFeeBps(uint16 newFeeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newFeeBps > MAX_FEE_BPS) revert PaymentRouterFeeTooHigh(newFeeBps);
        _schedule.feeBps = newFeeBps;
        emit FeeChanged(newFeeBps);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev Applies to payments made after the change.
    function setDeadlineWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _schedule.deadlineWindow = _checkWindow(window);
        emit DeadlineWindowChanged(window);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev Applies to every Held payment, including those held before the change.
    function setReviewWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _schedule.reviewWindow = _checkWindow(window);
        emit ReviewWindowChanged(window);
    }

    /// @inheritdoc IPaymentRouter
    function setOracle(address newOracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newOracle == address(0)) revert PaymentRouterZeroAddress();
        _policy.oracle = newOracle;
        emit OracleChanged(newOracle);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev Checked when a payment is made; a payment already in escrow is not affected.
    /// The count of blocked accounts moves only when an account's state changes, so blocking twice
    /// or unblocking an account never blocked leaves it right.
    function setBlocked(address account, bool blocked) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_blocked[account] != blocked) {
            _blocked[account] = blocked;
            if (blocked) {
                ++_schedule.blockedCount; // reverts past 2^32 - 1 accounts
            } else {
                --_schedule.blockedCount; // >= 1: this account was counted
            }
        }
        emit BlocklistUpdated(account, blocked);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev The token keeps its index, so payments already made in it resolve their token.
    function setToken(address token, uint32 pushGas) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == address(0)) revert PaymentRouterZeroAddress();
        if (token.code.length == 0) revert PaymentRouterNotAToken(token);
        if (pushGas < MIN_TOKEN_PUSH_GAS || pushGas > MAX_TOKEN_PUSH_GAS) {
            revert PaymentRouterInvalidPushGas(token, pushGas);
        }
        uint16 index = _tokenEntries[token].index;
        if (index == 0) {
            index = SafeCast.toUint16(_tokens.length); // at most 65,535 tokens
            _tokens.push(TokenSlot({token: token, pushGas: pushGas}));
        } else {
            _tokens[index].pushGas = pushGas;
        }
        _tokenEntries[token] =
            TokenEntry({index: index, pushGas: pushGas, exactTransfer: _tokenEntries[token].exactTransfer});
        emit TokenListed(token, pushGas);
    }

    /// @inheritdoc IPaymentRouter
    /// @dev The declaration survives a delisting and a relisting; withdraw it with `exact` false.
    function setTokenExactTransfer(address token, bool exact) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TokenEntry storage entry = _tokenEntries[token];
        if (entry.pushGas == 0) revert PaymentRouterTokenNotListed(token);
        entry.exactTransfer = exact;
        emit TokenExactTransferSet(token, exact);
    }

    /// @inheritdoc IPaymentRouter
    function delistToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        TokenEntry storage entry = _tokenEntries[token];
        if (entry.pushGas == 0) revert PaymentRouterTokenNotListed(token);
        entry.pushGas = 0;
        _tokens[entry.index].pushGas = 0;
        emit TokenDelisted(token);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IPaymentRouter
    function tokenPushGas(address token) external view returns (uint32) {
        return _tokenEntries[token].pushGas;
    }

    /// @inheritdoc IPaymentRouter
    function tokenExactTransfer(address token) external view returns (bool) {
        return _tokenEntries[token].exactTransfer;
    }

    /// @inheritdoc IPaymentRouter
    function listedTokens() external view returns (address[] memory tokens, uint32[] memory pushGas) {
        uint256 n = _tokens.length;
        uint256 count = 0;
        for (uint256 i = 1; i < n; ++i) {
            if (_tokens[i].pushGas != 0) ++count;
        }
        tokens = new address[](count);
        pushGas = new uint32[](count);
        uint256 j = 0;
        for (uint256 i = 1; i < n; ++i) {
            TokenSlot memory slot = _tokens[i];
            if (slot.pushGas != 0) {
                tokens[j] = slot.token;
                pushGas[j] = slot.pushGas;
                ++j;
            }
        }
    }

    /// @inheritdoc IPaymentRouter
    function payment(uint256 id) external view returns (Payment memory) {
        PaymentRecord memory p = _existing(id);
        (address token,) = _tokenAt(p.tokenIndex);
        return Payment({
            termsHash: p.terms,
            score: p.score,
            token: token,
            feeBps: p.feeBps,
            deadline: p.deadline,
            status: p.status
        });
    }

    /// @inheritdoc IPaymentRouter
    function heldTerms(uint256 id) external view returns (Terms memory terms) {
        PaymentRecord memory p = _existing(id);
        if (p.status != Status.Held) revert PaymentRouterNotHeld(id);
        HeldTerms memory held = _held[id];
        (address token,) = _tokenAt(p.tokenIndex);
        return Terms({payer: held.payer, payee: held.payee, token: token, amount: held.amount});
    }

    /// @inheritdoc IPaymentRouter
    function termsHash(Terms calldata terms) external pure returns (bytes20) {
        return _termsHash(terms);
    }

    /// @notice Whether the guardian paused the router (see {_pause}).
    function paused() public view override returns (bool) {
        return _schedule.paused;
    }

    /// @inheritdoc IPaymentRouter
    function paymentScore(uint256 id) external view returns (uint16) {
        return _existing(id).score;
    }

    /// @inheritdoc IPaymentRouter
    function paymentFeeBps(uint256 id) external view returns (uint16) {
        return _existing(id).feeBps;
    }

    /// @inheritdoc IPaymentRouter
    function paymentCount() external view returns (uint256) {
        return _schedule.paymentCount;
    }

    /// @inheritdoc IPaymentRouter
    function reviewThreshold() external view returns (uint16) {
        return _policy.reviewThreshold;
    }

    /// @inheritdoc IPaymentRouter
    function rejectThreshold() external view returns (uint16) {
        return _policy.rejectThreshold;
    }

    /// @inheritdoc IPaymentRouter
    function feeBps() external view returns (uint16) {
        return _schedule.feeBps;
    }

    /// @inheritdoc IPaymentRouter
    function riskPolicy() external view returns (RiskPolicy memory) {
        Policy memory policy = _policy;
        return RiskPolicy({
            reviewThreshold: policy.reviewThreshold,
            rejectThreshold: policy.rejectThreshold,
            feeBps: _schedule.feeBps
        });
    }

    /// @inheritdoc IPaymentRouter
    function oracle() external view returns (address) {
        return _policy.oracle;
    }

    /// @inheritdoc IPaymentRouter
    function deadlineWindow() external view returns (uint64) {
        return _schedule.deadlineWindow;
    }

    /// @inheritdoc IPaymentRouter
    function reviewWindow() external view returns (uint64) {
        return _schedule.reviewWindow;
    }

    /// @inheritdoc IPaymentRouter
    function isBlocked(address account) external view returns (bool) {
        return _blocked[account];
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _checkParty(address account) private view {
        if (_blocked[account]) revert PaymentRouterBlocked(account);
    }

    /// @dev `screened`: someone is blocked, so the payee is looked up in the blocklist.
    function _checkPayee(address payee, bool screened) private view {
        if (payee == address(0)) revert PaymentRouterZeroPayee();
        if (payee == msg.sender) revert PaymentRouterSelfPayment();
        if (screened) _checkParty(payee);
    }

    /// @dev Payment `id`, which must exist.
    function _existing(uint256 id) private view returns (PaymentRecord memory p) {
        p = _payments[id];
        // an enum state, not a balance: None is exactly "never written"
        // slither-disable-next-line incorrect-equality
        if (p.status == Status.None) revert PaymentRouterUnknownPayment(id);
    }

    function _checkAmount(uint256 amount) private pure {
        if (amount == 0) revert PaymentRouterZeroAmount();
        if (amount > type(uint96).max) revert PaymentRouterAmountTooLarge(amount);
    }

    function _checkWindow(uint64 window) private pure returns (uint40) {
        if (window < MIN_WINDOW || window > MAX_WINDOW) revert PaymentRouterInvalidWindow(window);
        return uint40(window); // fits: window <= 30 days
    }

    /// @dev The listing of `token`, which must be listed (issue 13.6: a token the DAO has not
    /// listed could make every payout in it cost the oracle node a full push budget).
    function _listedToken(address token) private view returns (TokenEntry memory entry) {
        entry = _tokenEntries[token];
        if (entry.pushGas == 0) {
            if (token.code.length == 0) revert PaymentRouterNotAToken(token);
            revert PaymentRouterTokenNotListed(token);
        }
    }

    /// @dev Pulls `amount` of `token` from the sender; returns what actually arrived.
    function _pullToken(address token, uint256 amount, bool exact) private returns (uint96) {
        uint256 received = _pullTokenUnbounded(token, amount, exact);
        // a zero test on a balance delta measured around our own transferFrom
        // slither-disable-next-line incorrect-equality
        if (received == 0) revert PaymentRouterZeroAmount();
        if (received > type(uint96).max) revert PaymentRouterAmountTooLarge(received);
        return uint96(received);
    }

    /// @dev `exact`: the DAO declared the token exact-transfer, so what arrived is `amount` and the
    /// balance is not measured around the pull.
    function _pullTokenUnbounded(address token, uint256 amount, bool exact) private returns (uint256) {
        if (exact) {
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            return amount;
        }
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 afterwards = IERC20(token).balanceOf(address(this));
        if (afterwards <= before) revert PaymentRouterZeroAmount();
        // a token may report any balance: never credit more than was asked for
        return Math.min(afterwards - before, amount);
    }

    function _record(uint256 id, address payee, uint96 amount, bytes32 ref, Batch memory batch) private {
        _payments[id] = PaymentRecord({
            terms: bytes20(keccak256(abi.encode(msg.sender, payee, batch.token, uint256(amount)))),
            deadline: batch.deadline,
            status: Status.Pending,
            tokenIndex: batch.tokenIndex,
            score: 0,
            feeBps: batch.feeBps
        });
        emit PaymentRequested(id, msg.sender, payee, batch.token, amount, ref, batch.deadline);
    }

    /// @dev Records a `payMany` batch; when a fee-on-transfer token delivered less than the
    /// total, each payment gets its pro-rata share (rounded down) and the last the remainder.
    function _recordMany(
        uint256 firstId,
        Batch memory batch,
        address[] calldata payees,
        uint256[] calldata amounts,
        bytes32[] calldata refs
    ) private {
        uint256 n = payees.length;
        uint256 allotted = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 share = amounts[i];
            if (batch.received != batch.total) {
                share = i + 1 == n ? batch.received - allotted : Math.mulDiv(share, batch.received, batch.total);
                allotted += share;
                // slither-disable-next-line incorrect-equality
                if (share == 0) revert PaymentRouterZeroAmount();
            }
            // each share <= its amount, which fits in 96 bits (checked by _checkAmount)
            _record(firstId + i, payees[i], uint96(share), refs[i], batch);
        }
    }

    /// @dev Settles at the fee quoted when the payment was made (`p.feeBps`), not the one in force
    /// now. `payee` and `amount` were checked against the stored terms by the caller.
    function _settle(uint256 id, PaymentRecord memory p, address payee, uint256 amount, uint16 score) private {
        (address token, uint32 pushGas) = _tokenAt(p.tokenIndex);
        _setOutcome(id, p, Status.Settled, score);
        // feeBps <= MAX_FEE_BPS (checked by setFeeBps, capped again by _accrueFee): fee <= amount
        uint256 fee = _accrueFee(token, amount, p.feeBps);
        uint256 payeeAmount = amount - fee;
        emit PaymentSettled(id, payee, payeeAmount, fee, score);
        _pushOrCreditPayment(id, payee, token, pushGas, payeeAmount);
    }

    /// @dev Holds the payment and writes its terms out for the reviewer (`terms` were checked
    /// against the stored hash by the caller; the amount fits in 96 bits: it is what `pay` stored).
    function _hold(uint256 id, PaymentRecord memory p, Terms calldata terms, uint16 score) private {
        _setOutcome(id, p, Status.Held, score);
        _held[id] = HeldTerms({payer: terms.payer, amount: uint96(terms.amount), payee: terms.payee});
        emit PaymentHeld(id, score);
    }

    /// @dev `payer` and `amount` were checked against the stored terms by the caller.
    function _refund(uint256 id, PaymentRecord memory p, address payer, uint256 amount, uint16 score) private {
        _setOutcome(id, p, Status.Refunded, score);
        emit PaymentRefunded(id, payer, amount, score);
        (address token, uint32 pushGas) = _tokenAt(p.tokenIndex);
        _pushOrCreditPayment(id, payer, token, pushGas, amount);
    }

    /// @dev Writes the new status and score into the payment's slot (and into `p`, as read).
    function _setOutcome(uint256 id, PaymentRecord memory p, Status status, uint16 score) private {
        p.status = status;
        p.score = score;
        PaymentRecord storage stored = _payments[id];
        stored.status = status;
        stored.score = score;
    }

    /// @dev Where a payment stands at the gate, from its slot as read.
    function _gateStatus(PaymentRecord memory p) private view returns (GateStatus) {
        Status status = p.status;
        // an enum state, not a balance: None is exactly "never written"
        // slither-disable-next-line incorrect-equality
        if (status == Status.None) return GateStatus.Unknown;
        if (status != Status.Pending) return GateStatus.Decided;
        return block.timestamp > p.deadline ? GateStatus.Expired : GateStatus.Awaiting;
    }

    /// @dev The first 160 bits of keccak256(abi.encode(payer, payee, token, amount)): what a
    /// payment's slot keeps of its terms. 160 bits: a second preimage (other terms for a stored
    /// hash) costs about 2^160 hashes.
    function _termsHash(Terms calldata terms) private pure returns (bytes20) {
        return bytes20(keccak256(abi.encode(terms.payer, terms.payee, terms.token, terms.amount)));
    }

    /// @dev The guardian pause lives in the schedule's slot (read by `pay` anyway): one cold read
    /// less per payment than Pausable's own slot.
    function _pause() internal override whenNotPaused {
        _schedule.paused = true;
        emit Paused(_msgSender());
    }

    function _unpause() internal override whenPaused {
        _schedule.paused = false;
        emit Unpaused(_msgSender());
    }

    /// @dev The token at `index` and its push budget; index 0 is ETH, answered without a storage read.
    function _tokenAt(uint16 index) private view returns (address token, uint32 pushGas) {
        // index 0 is ETH by construction (a token index, not a balance)
        // slither-disable-next-line incorrect-equality
        if (index == 0) return (address(0), 0);
        TokenSlot storage slot = _tokens[index];
        return (slot.token, slot.pushGas);
    }

    /// @dev Pushes `amount` of `token` to `to` with the token's listed budget `pushGas`
    /// ({RiskGatedVault-_pushOrCredit}; a delisted token, budget 0, is credited without a call); a
    /// failed push is credited and reported with `PaymentCredited`.
    function _pushOrCreditPayment(uint256 id, address to, address token, uint32 pushGas, uint256 amount)
        private
    {
        if (!_pushOrCredit(token, to, amount, pushGas)) {
            emit PaymentCredited(id, to, token, amount);
        }
    }

    function _revertNothingToWithdraw() internal pure override {
        revert PaymentRouterNothingToWithdraw();
    }

    function _revertZeroAddress() internal pure override {
        revert PaymentRouterZeroAddress();
    }
}
