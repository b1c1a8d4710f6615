// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IPaymentRouter} from "../interfaces/IPaymentRouter.sol";
import {IRiskGated} from "../interfaces/IRiskGated.sol";
import {IRiskOracle} from "../interfaces/IRiskOracle.sol";
import {RiskGatedVault} from "../vault/RiskGatedVault.sol";
import {ICrossBorderRouter} from "./ICrossBorderRouter.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IUniswapV2Router02} from "./interfaces/IUniswapV2Router02.sol";
import {IV3SwapRouter} from "./interfaces/IV3SwapRouter.sol";
import {FxLockReserve} from "./FxLockReserve.sol";

/// @title CrossBorderRouter
/// @notice Cross-border payments behind the Verdict risk gate: pay in one currency token, the
/// payee receives another, converted through a route of Uniswap v2 and v3 pools only after a
/// passing verdict, at a rate an oracle node quoted and the price feeds bound; otherwise the payer
/// gets every unit back. A payer may buy a node's rate lock; its shortfall is paid from the lock
/// reserve. See {ICrossBorderRouter} and docs/cross-border.md.
///
/// Money conservation, per token `t`, at every block outside a call:
///
///   balance(this, t) == sum(amountIn of Pending and Held payments paid in t)
///                     + sum(premium of the locks of Pending and Held payments paid in t)
///                     + sum(credited[account][t]) + feesAccrued[t]
///
/// The thresholds, fee, windows and blocklist are the PaymentRouter's ({IPaymentRouter}), like
/// the Escrow's; credits, fees, the pause and the score-to-band rule are {RiskGatedVault}'s.
contract CrossBorderRouter is ICrossBorderRouter, RiskGatedVault, EIP712 {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(uint256 paymentId,uint256 amountIn,uint256 amountOut,uint256 minOut,address[] path,uint24[] fees,uint64 issuedAt,uint64 expiry)"
    );
    bytes32 public constant LOCK_TYPEHASH = keccak256(
        "RateLock(uint256 paymentId,uint256 amountIn,uint256 lockedOut,uint256 premium,uint64 issuedAt,uint64 expiry)"
    );
    /// @notice How long after issue a lock offer may be bought: an older offer is stale (the rate
    /// it was priced at may have moved).
    uint64 public constant LOCK_OFFER_TTL = 2 minutes;
    /// @notice The longest lock tenor: 24 hours.
    uint64 public constant MAX_LOCK_TENOR = 1 days;
    /// @notice The longest route: 3 hops (4 tokens).
    uint256 public constant MAX_HOPS = 3;
    /// @notice The widest deviation band the DAO may set: 10%.
    uint16 public constant MAX_BAND_BPS = 1000;
    /// @notice Gas the swap is given: a 3-hop v2 swap costs about 250,000, a 3-hop v3 swap about
    /// 400,000; a route token that burns more fails the swap (refund) instead of starving the
    /// verdict batch.
    uint256 public constant SWAP_GAS = 1_000_000;
    uint32 public constant MIN_HEARTBEAT = 1 minutes;
    uint32 public constant MAX_HEARTBEAT = 7 days;
    /// @dev The range of a feed price accepted, in USD with 18 decimals: 1e-12 to 1e12 USD.
    uint256 private constant _MIN_PRICE = 1e6;
    uint256 private constant _MAX_PRICE = 1e30;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    struct StoredQuote {
        uint256 amountOut;
        uint256 minOut;
        uint64 issuedAt;
        uint64 expiry;
        bytes32 quoteHash;
        address[] path;
        uint24[] fees;
    }

    struct StoredLock {
        uint256 lockedOut;
        uint256 premium;
        uint64 issuedAt;
        uint64 expiry;
        bytes32 lockHash;
    }

    address private immutable _oracle;
    address private immutable _policy;
    address private immutable _swapRouter;
    address private immutable _v3Router;
    address private immutable _lockReserve;

    uint64 private _paymentCount;
    uint16 private _deviationBandBps;

    mapping(uint256 id => Payment) private _payments;
    mapping(uint256 id => StoredQuote) private _quotes;
    mapping(address token => FxToken) private _fxTokens;
    mapping(uint256 id => StoredLock) private _locks;

    /// @param admin DEFAULT_ADMIN_ROLE (the deployer, later the DAO timelock)
    /// @param policy_ the PaymentRouter whose thresholds, fee, windows and blocklist apply
    /// @param oracle_ the RiskOracle: applies verdicts, and its nodes sign quotes
    /// @param swapRouter_ Uniswap v2's Router02
    /// @param v3Router_ Uniswap v3's SwapRouter
    /// @param lockReserve_ the FxLockReserve that pays rate locks' shortfalls (this router needs
    /// its COVER_ROLE) and receives their premiums
    /// @param treasury_ where swept protocol fees go
    constructor(
        address admin,
        address policy_,
        address oracle_,
        address swapRouter_,
        address v3Router_,
        address lockReserve_,
        address treasury_
    ) RiskGatedVault(treasury_) EIP712("Verdict CrossBorderRouter", "1") {
        if (
            admin == address(0) || policy_ == address(0) || oracle_ == address(0) || swapRouter_ == address(0)
                || v3Router_ == address(0) || lockReserve_ == address(0) || treasury_ == address(0)
        ) revert CrossBorderZeroAddress();
        _lockReserve = lockReserve_;
        _v3Router = v3Router_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _policy = policy_;
        _oracle = oracle_;
        _swapRouter = swapRouter_;
        _deviationBandBps = 150;
    }

    /*//////////////////////////////////////////////////////////////
                                PAYING
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICrossBorderRouter
    function pay(address payee, address tokenIn, address tokenOut, uint256 amountIn)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 id)
    {
        if (payee == address(0)) revert CrossBorderZeroAddress();
        if (amountIn == 0) revert CrossBorderZeroAmount();
        if (amountIn > type(uint96).max) revert CrossBorderAmountTooLarge(amountIn);
        if (tokenIn == tokenOut) revert CrossBorderSameToken(tokenIn);
        _requireListed(tokenIn);
        _requireListed(tokenOut);
        IPaymentRouter policy_ = IPaymentRouter(_policy);
        if (policy_.isBlocked(msg.sender)) revert CrossBorderBlocked(msg.sender);
        if (policy_.isBlocked(payee)) revert CrossBorderBlocked(payee);

        // The pull precedes the bookkeeping because only the balance change says what arrived;
        // nonReentrant makes that safe.
        uint256 before = IERC20(tokenIn).balanceOf(address(this));
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        uint256 received = IERC20(tokenIn).balanceOf(address(this)) - before;
        // slither-disable-next-line incorrect-equality
        if (received == 0 || received > amountIn) revert CrossBorderNothingReceived();

        id = ++_paymentCount;
        uint64 deadline = uint64(block.timestamp) + policy_.deadlineWindow();
        _payments[id] = Payment({
            payer: msg.sender,
            deadline: deadline,
            status: Status.Pending,
            payee: payee,
            tokenIn: tokenIn,
            tokenOut: tokenOut,
            amountIn: received
        });
        emit CrossBorderRequested(id, msg.sender, payee, tokenIn, tokenOut, received, deadline);
    }

    /// @inheritdoc ICrossBorderRouter
    // tryRecover's third value (the bad signature's s) is not needed.
    // slither-disable-next-line unused-return
    function submitQuote(Quote calldata quote, bytes calldata signature) external nonReentrant {
        uint256 id = quote.paymentId;
        StoredQuote storage stored = _quotes[id];
        _checkQuote(quote, _payments[id], stored.issuedAt);
        bytes32 digest = _quoteDigest(quote);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !IRiskOracle(_oracle).isNode(signer)) {
            revert CrossBorderInvalidSigner(signer);
        }

        stored.amountOut = quote.amountOut;
        stored.minOut = quote.minOut;
        stored.issuedAt = quote.issuedAt;
        stored.expiry = quote.expiry;
        stored.quoteHash = digest;
        stored.path = quote.path;
        stored.fees = quote.fees;
        emit QuoteAccepted(id, digest, signer, quote.amountOut, quote.minOut, quote.expiry);
    }

    /// @inheritdoc ICrossBorderRouter
    // tryRecover's third value is not needed; the premium's pull is checked by the balance change.
    // slither-disable-next-line unused-return,reentrancy-balance
    function buyLock(RateLock calldata lock, bytes calldata signature) external nonReentrant whenNotPaused {
        uint256 id = lock.paymentId;
        Payment storage p = _payments[id];
        if (p.payer != msg.sender) revert CrossBorderNotPayer(id, msg.sender);
        if (p.status != Status.Pending || _locks[id].lockedOut != 0) revert CrossBorderNotLockable(id);
        if (lock.amountIn != p.amountIn || lock.lockedOut == 0) revert CrossBorderLockMismatch(id);
        if (lock.issuedAt > block.timestamp || block.timestamp - lock.issuedAt > LOCK_OFFER_TTL) {
            revert CrossBorderLockStale(id, lock.issuedAt);
        }
        if (lock.expiry < block.timestamp || lock.expiry - lock.issuedAt > MAX_LOCK_TENOR) {
            revert CrossBorderLockMismatch(id);
        }
        (bool fresh, uint256 feedOut) = _feedAmountOut(p.tokenIn, p.tokenOut, p.amountIn);
        if (!fresh) revert CrossBorderFeedStale(p.tokenIn);
        if (lock.lockedOut > feedOut || !_withinBand(lock.lockedOut, feedOut)) {
            revert CrossBorderLockOffFeed(id, lock.lockedOut, feedOut);
        }
        bytes32 digest = _lockDigest(lock);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || !IRiskOracle(_oracle).isNode(signer)) {
            revert CrossBorderInvalidSigner(signer);
        }

        _locks[id] = StoredLock({
            lockedOut: lock.lockedOut,
            premium: lock.premium,
            issuedAt: lock.issuedAt,
            expiry: lock.expiry,
            lockHash: digest
        });
        emit RateLockBought(id, digest, signer, lock.lockedOut, lock.premium, lock.expiry);
        _pullExact(p.tokenIn, lock.premium);
    }

    /*//////////////////////////////////////////////////////////////
                               RISK GATE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskGated
    function gateStatus(uint256 id) public view returns (GateStatus) {
        Payment storage p = _payments[id];
        Status status = p.status;
        if (status == Status.None) return GateStatus.Unknown;
        if (status != Status.Pending) return GateStatus.Decided;
        return block.timestamp > p.deadline ? GateStatus.Expired : GateStatus.Awaiting;
    }

    /// @notice Applies the final risk score: at or above the reject threshold refunds; in the
    /// review band (or while paused) holds for a reviewer and drops the quote, so an approval
    /// needs a fresh one; below it converts with the posted quote, or refunds when that cannot be
    /// done within the quote's and the feeds' bounds. Never reverts because of a payee, a token
    /// or the route: the swap runs in a bounded sub-call whose failure refunds.
    ///
    /// Requirements:
    /// - the caller is the RiskOracle.
    function applyVerdict(uint256 id, uint16 score, Terms calldata) external nonReentrant returns (GateStatus status) {
        if (msg.sender != _oracle) revert CrossBorderOnlyOracle(msg.sender);
        status = gateStatus(id);
        if (status != GateStatus.Awaiting) return status;

        Payment storage p = _payments[id];
        RiskPolicy memory riskPolicy_ = IPaymentRouter(_policy).riskPolicy();
        Band band = _band(score, riskPolicy_.reviewThreshold, riskPolicy_.rejectThreshold);
        if (band == Band.Reject) {
            _refund(id, p, RefundReason.Rejected);
        } else if (band == Band.Hold) {
            uint64 reviewDeadline = uint64(block.timestamp) + IPaymentRouter(_policy).reviewWindow();
            p.status = Status.Held;
            p.deadline = reviewDeadline;
            // drop the quote, and let only a quote issued after this second replace it: a
            // pre-hold quote, still signed and perhaps unexpired, cannot be relayed again
            delete _quotes[id];
            _quotes[id].issuedAt = uint64(block.timestamp);
            emit CrossBorderHeld(id, score, reviewDeadline);
        } else {
            _convert(id, p, score, riskPolicy_.feeBps);
        }
    }

    /// @inheritdoc ICrossBorderRouter
    function review(uint256 id, bool approve) external nonReentrant onlyRole(REVIEWER_ROLE) {
        Payment storage p = _payments[id];
        if (p.status != Status.Held) revert CrossBorderNotHeld(id);
        if (block.timestamp > p.deadline) revert CrossBorderReviewWindowPassed(id, p.deadline);
        if (approve) _requireNotPaused();
        emit CrossBorderReviewed(id, msg.sender, approve);
        if (approve) {
            _convert(id, p, 0, IPaymentRouter(_policy).feeBps());
        } else {
            _refund(id, p, RefundReason.ReviewRejected);
        }
    }

    /// @inheritdoc ICrossBorderRouter
    function reclaim(uint256 id) external nonReentrant {
        Payment storage p = _payments[id];
        Status status = p.status;
        if ((status != Status.Pending && status != Status.Held) || block.timestamp <= p.deadline) {
            revert CrossBorderNotReclaimable(id);
        }
        _refund(id, p, RefundReason.Reclaimed);
    }

    /// @notice The swap of one conversion, run by this contract on itself so that any failure
    /// (below the bound, a rate lock the reserve cannot cover, a route that reverts, a token that
    /// misbehaves) undoes the swap whole and the caller refunds. Swaps `order.amountIn` of
    /// `path[0]` hop by hop (runs of v2 hops through Router02, runs of v3 hops through SwapRouter's
    /// `exactInput`) and returns what of `path[last]` arrived.
    ///
    /// Requirements:
    /// - the caller is this contract;
    /// - exactly `amountIn` leaves and at least `bound` arrives;
    /// - with a lock whose `lockedOut` exceeds what arrives less the fee, the lock reserve pays
    ///   the shortfall (`cover`, included in `received`).
    // Balances are read before and after the swap on purpose (what left, what arrived); only this
    // contract may call it, from nonReentrant entry points.
    // slither-disable-next-line reentrancy-balance
    function swapExact(SwapOrder calldata order) external returns (uint256 received, uint256 cover) {
        if (msg.sender != address(this)) revert CrossBorderOnlySelf(msg.sender);
        IERC20 tokenIn = IERC20(order.path[0]);
        IERC20 tokenOut = IERC20(order.path[order.path.length - 1]);
        uint256 inBefore = tokenIn.balanceOf(address(this));
        uint256 outBefore = tokenOut.balanceOf(address(this));
        _swapRoute(order.amountIn, order.path, order.fees);
        // No allowance is left over: each router pulled exactly what it was approved (the first
        // pull is checked next; the routers pull their exact input), or this call reverts whole.
        uint256 spent = inBefore - tokenIn.balanceOf(address(this));
        if (spent != order.amountIn) revert CrossBorderInputMismatch(spent, order.amountIn);
        received = tokenOut.balanceOf(address(this)) - outBefore;
        if (received < order.bound) revert CrossBorderFillBelowBound(received, order.bound);
        uint256 net = received - (received * Math.min(order.feeBps, MAX_FEE_BPS)) / BPS;
        if (net < order.lockedOut) {
            cover = order.lockedOut - net;
            uint256 reserve = tokenOut.balanceOf(_lockReserve);
            if (cover > reserve) revert CrossBorderLockUncovered(cover, reserve);
            FxLockReserve(_lockReserve).cover(address(tokenOut), cover);
            // what the reserve sent counts as received; a token that delivered less fails
            uint256 total = tokenOut.balanceOf(address(this)) - outBefore;
            if (total != received + cover) revert CrossBorderLockUncovered(cover, reserve);
            received = total;
        }
    }

    /*//////////////////////////////////////////////////////////////
                            ADMINISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICrossBorderRouter
    function setFxToken(address token, address feed, uint32 heartbeat, uint32 pushGas)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (token == address(0) || feed == address(0)) revert CrossBorderZeroAddress();
        if (heartbeat < MIN_HEARTBEAT || heartbeat > MAX_HEARTBEAT) revert CrossBorderInvalidHeartbeat(heartbeat);
        if (pushGas < MIN_TOKEN_PUSH_GAS || pushGas > MAX_TOKEN_PUSH_GAS) revert CrossBorderInvalidPushGas(pushGas);
        uint8 tokenDecimals = IERC20Metadata(token).decimals();
        uint8 feedDecimals = AggregatorV3Interface(feed).decimals();
        // at most 18 each, so the rate arithmetic of {_feedAmountOut} cannot overflow
        if (tokenDecimals > 18 || feedDecimals > 18) revert CrossBorderInvalidDecimals(tokenDecimals, feedDecimals);
        _fxTokens[token] = FxToken({
            feed: feed,
            heartbeat: heartbeat,
            tokenDecimals: tokenDecimals,
            feedDecimals: feedDecimals,
            pushGas: pushGas
        });
        emit FxTokenSet(token, feed, heartbeat, pushGas);
    }

    /// @inheritdoc ICrossBorderRouter
    function removeFxToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireListed(token);
        delete _fxTokens[token];
        emit FxTokenRemoved(token);
    }

    /// @inheritdoc ICrossBorderRouter
    function setDeviationBand(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps == 0 || bps > MAX_BAND_BPS) revert CrossBorderInvalidBand(bps);
        _deviationBandBps = bps;
        emit DeviationBandChanged(bps);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ICrossBorderRouter
    function payment(uint256 id) external view returns (Payment memory) {
        return _payments[id];
    }

    /// @inheritdoc ICrossBorderRouter
    function paymentCount() external view returns (uint256) {
        return _paymentCount;
    }

    /// @inheritdoc ICrossBorderRouter
    function quoteOf(uint256 id)
        external
        view
        returns (uint256 amountOut, uint256 minOut, uint64 issuedAt, uint64 expiry, bytes32 quoteHash)
    {
        StoredQuote storage q = _quotes[id];
        return (q.amountOut, q.minOut, q.issuedAt, q.expiry, q.quoteHash);
    }

    /// @dev The EIP-712 digest of `quote` (oracle/fx_quotes.py `quote_digest` computes the same).
    function _quoteDigest(Quote calldata quote) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    QUOTE_TYPEHASH,
                    quote.paymentId,
                    quote.amountIn,
                    quote.amountOut,
                    quote.minOut,
                    keccak256(abi.encodePacked(quote.path)),
                    keccak256(abi.encodePacked(_widen(quote.fees))),
                    quote.issuedAt,
                    quote.expiry
                )
            )
        );
    }

    /// @inheritdoc ICrossBorderRouter
    function lockOf(uint256 id)
        external
        view
        returns (uint256 lockedOut, uint256 premium, uint64 issuedAt, uint64 expiry, bytes32 lockHash)
    {
        StoredLock storage l = _locks[id];
        return (l.lockedOut, l.premium, l.issuedAt, l.expiry, l.lockHash);
    }

    /// @dev The EIP-712 digest of `lock` (oracle/fx_quotes.py `lock_digest` computes the same).
    function _lockDigest(RateLock calldata lock) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    LOCK_TYPEHASH,
                    lock.paymentId,
                    lock.amountIn,
                    lock.lockedOut,
                    lock.premium,
                    lock.issuedAt,
                    lock.expiry
                )
            )
        );
    }

    /// @inheritdoc ICrossBorderRouter
    function lockReserve() external view returns (address) {
        return _lockReserve;
    }

    /// @inheritdoc ICrossBorderRouter
    function fxToken(address token) external view returns (FxToken memory) {
        return _fxTokens[token];
    }

    /// @inheritdoc ICrossBorderRouter
    function feedAmountOut(address tokenIn, address tokenOut, uint256 amountIn) external view returns (uint256) {
        (bool fresh, uint256 out) = _feedAmountOut(tokenIn, tokenOut, amountIn);
        if (!fresh) revert CrossBorderFeedStale(tokenIn);
        return out;
    }

    /// @inheritdoc ICrossBorderRouter
    function deviationBandBps() external view returns (uint16) {
        return _deviationBandBps;
    }

    /// @inheritdoc ICrossBorderRouter
    function oracle() external view returns (address) {
        return _oracle;
    }

    /// @inheritdoc ICrossBorderRouter
    function policy() external view returns (address) {
        return _policy;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Converts `id` with its posted quote and pays the payee, or refunds the payer with the
    /// first bound that fails. The payment is marked Settled before the swap (every entry point is
    /// nonReentrant, and the swap's own failure is caught), so nothing can act on it meanwhile.
    // The status is written before the swap; after it, only the outcome of this very payment is
    // recorded, and every entry point is nonReentrant.
    // slither-disable-next-line reentrancy-no-eth
    function _convert(uint256 id, Payment storage p, uint16 score, uint256 feeBps) private {
        (uint256 bound, RefundReason reason) = _conversionBound(id, p);
        if (bound == 0) return _refund(id, p, reason);
        p.status = Status.Settled;
        p.deadline = 0;
        StoredQuote storage q = _quotes[id];
        StoredLock storage lock = _locks[id];
        // a lock past its tenor lapses: the payment converts at the market, the premium is kept
        uint256 lockedOut = block.timestamp <= lock.expiry ? lock.lockedOut : 0;
        SwapOrder memory order = SwapOrder({
            amountIn: p.amountIn,
            bound: bound,
            lockedOut: lockedOut,
            feeBps: feeBps,
            path: q.path,
            fees: q.fees
        });
        try this.swapExact{gas: SWAP_GAS}(order) returns (uint256 received, uint256 cover) {
            _paySettled(id, p, received, score, feeBps, cover);
        } catch (bytes memory err) {
            _refund(
                id,
                p,
                bytes4(err) == CrossBorderLockUncovered.selector ? RefundReason.LockUncovered : RefundReason.SwapFailed
            );
        }
    }

    /// @dev Accrues the fee on what the swap delivered and pushes the rest, with the lock reserve's
    /// `cover`, to the payee; a lock's premium goes to the reserve.
    function _paySettled(uint256 id, Payment storage p, uint256 received, uint16 score, uint256 feeBps, uint256 cover)
        private
    {
        uint256 fee = _accrueFee(p.tokenOut, received - cover, feeBps);
        uint256 premium = _locks[id].premium;
        if (premium != 0) _locks[id].premium = 0;
        if (cover != 0) emit RateLockHonoured(id, cover);
        emit CrossBorderSettled(id, p.payee, received - fee, fee, score, _quotes[id].quoteHash);
        _push(id, p.tokenOut, p.payee, received - fee);
        _push(id, p.tokenIn, _lockReserve, premium);
    }

    /// @dev The least the swap of `id` may deliver: the quote's minimum out or the feeds' rate less
    /// the deviation band, whichever is higher; 0 and the reason when it may not be converted.
    function _conversionBound(uint256 id, Payment storage p) private view returns (uint256, RefundReason) {
        StoredQuote storage q = _quotes[id];
        if (q.quoteHash == bytes32(0)) return (0, RefundReason.NoQuote);
        if (block.timestamp > q.expiry) return (0, RefundReason.QuoteExpired);
        (bool fresh, uint256 feedOut) = _feedAmountOut(p.tokenIn, p.tokenOut, p.amountIn);
        if (!fresh) return (0, RefundReason.FeedStale);
        if (!_withinBand(q.amountOut, feedOut)) return (0, RefundReason.QuoteOffFeed);
        uint256 hops = q.path.length - 1;
        for (uint256 i = 1; i < hops; ++i) {
            // a hop token delisted since the quote
            if (_fxTokens[q.path[i]].feed == address(0)) return (0, RefundReason.SwapFailed);
        }
        uint256 floor = Math.mulDiv(feedOut, BPS - _deviationBandBps, BPS);
        uint256 bound = Math.max(q.minOut, floor);
        // a zero bound (a dust payment whose feed value rounds to nothing) is not a conversion
        return (bound, bound == 0 ? RefundReason.SwapFailed : RefundReason.Rejected);
    }

    /// @dev Marks `id` Refunded and sends the payer every unit of `tokenIn` that arrived.
    function _refund(uint256 id, Payment storage p, RefundReason reason) private {
        p.status = Status.Refunded;
        p.deadline = 0;
        address payer = p.payer;
        uint256 amountIn = p.amountIn;
        emit CrossBorderRefunded(id, payer, amountIn, reason);
        // a lock that was not exercised costs nothing: its premium goes back with the payment
        uint256 premium = _locks[id].premium;
        if (premium != 0) {
            _locks[id].premium = 0;
            emit RateLockPremiumRefunded(id, payer, premium);
        }
        _push(id, p.tokenIn, payer, amountIn + premium);
    }

    /// @dev Pulls exactly `amount` of `token` from the caller (a fee-on-transfer token reverts).
    function _pullExact(address token, uint256 amount) private {
        if (amount == 0) return;
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert CrossBorderNothingReceived();
    }

    /// @dev Swaps `amountIn` of `path[0]` along `path`: each run of v2 hops (`fees[i] == 0`) in one
    /// Router02 call, each run of v3 hops in one SwapRouter `exactInput` call. Intermediate
    /// minimums are 0: the caller checks what arrives at the end.
    function _swapRoute(uint256 amountIn, address[] calldata path, uint24[] calldata fees) private {
        uint256 amount = amountIn;
        uint256 hops = fees.length;
        uint256 i;
        while (i < hops) {
            bool v3 = fees[i] != 0;
            uint256 j = i + 1;
            while (j < hops && (fees[j] != 0) == v3) ++j;
            amount = v3 ? _swapV3(amount, path[i:j + 1], fees[i:j]) : _swapV2(amount, path[i:j + 1]);
            i = j;
        }
    }

    // The last of the amounts is what this contract received; the caller checks balances.
    // slither-disable-next-line unused-return
    function _swapV2(uint256 amountIn, address[] calldata path) private returns (uint256) {
        IERC20(path[0]).forceApprove(_swapRouter, amountIn);
        uint256[] memory amounts = IUniswapV2Router02(_swapRouter).swapExactTokensForTokens(
            amountIn, 0, path, address(this), block.timestamp
        );
        return amounts[amounts.length - 1];
    }

    function _swapV3(uint256 amountIn, address[] calldata path, uint24[] calldata fees) private returns (uint256) {
        bytes memory packed = abi.encodePacked(path[0]);
        for (uint256 k; k < fees.length; ++k) {
            packed = abi.encodePacked(packed, fees[k], path[k + 1]);
        }
        IERC20(path[0]).forceApprove(_v3Router, amountIn);
        return IV3SwapRouter(_v3Router).exactInput(
            IV3SwapRouter.ExactInputParams({
                path: packed,
                recipient: address(this),
                deadline: block.timestamp,
                amountIn: amountIn,
                amountOutMinimum: 0
            })
        );
    }

    /// @dev Pushes with the token's listed budget (0 when delisted: credited straight away).
    function _push(uint256 id, address token, address to, uint256 amount) private {
        if (amount == 0) return;
        if (!_pushOrCredit(token, to, amount, _fxTokens[token].pushGas)) {
            emit CrossBorderCredited(id, to, token, amount);
        }
    }

    /// @dev Reverts unless `quote` may replace the current quote (issued at `currentIssuedAt`) of
    /// payment `p`: see {submitQuote}'s requirements, the signature aside.
    function _checkQuote(Quote calldata quote, Payment storage p, uint64 currentIssuedAt) private view {
        uint256 id = quote.paymentId;
        Status status = p.status;
        if (status != Status.Pending && status != Status.Held) revert CrossBorderNotQuotable(id, status);
        if (quote.amountIn != p.amountIn || quote.minOut > quote.amountOut || quote.minOut == 0) {
            revert CrossBorderQuoteMismatch(id);
        }
        _checkRoute(id, quote.path, quote.fees, p.tokenIn, p.tokenOut);
        if (block.timestamp > quote.expiry) revert CrossBorderQuoteExpired(id, quote.expiry);
        if (quote.issuedAt <= currentIssuedAt) revert CrossBorderQuoteNotNewer(id, quote.issuedAt);
        (bool fresh, uint256 feedOut) = _feedAmountOut(p.tokenIn, p.tokenOut, p.amountIn);
        if (!fresh) revert CrossBorderFeedStale(p.tokenIn);
        if (!_withinBand(quote.amountOut, feedOut)) revert CrossBorderQuoteOffFeed(id, quote.amountOut, feedOut);
    }

    function _checkRoute(uint256 id, address[] calldata path, uint24[] calldata fees, address tokenIn, address tokenOut)
        private
        view
    {
        uint256 length = path.length;
        if (
            length < 2 || length > MAX_HOPS + 1 || fees.length != length - 1 || path[0] != tokenIn
                || path[length - 1] != tokenOut
        ) {
            revert CrossBorderInvalidRoute(id);
        }
        for (uint256 i = 1; i + 1 < length; ++i) {
            if (_fxTokens[path[i]].feed == address(0)) revert CrossBorderInvalidRoute(id);
        }
    }

    /// @dev `amountIn` of `tokenIn` in `tokenOut` at the feeds' USD prices; `fresh` is false when
    /// either token is unlisted or its feed is unreadable, out of range or older than its
    /// heartbeat. Never reverts: prices are within [{_MIN_PRICE}, {_MAX_PRICE}], decimals at most
    /// 18 and amounts below 2**96, so every product fits in 256 bits.
    function _feedAmountOut(address tokenIn, address tokenOut, uint256 amountIn)
        private
        view
        returns (bool fresh, uint256 amountOut)
    {
        FxToken memory a = _fxTokens[tokenIn];
        FxToken memory b = _fxTokens[tokenOut];
        (bool okA, uint256 priceA) = _price(a);
        (bool okB, uint256 priceB) = _price(b);
        if (!okA || !okB) return (false, 0);
        amountOut = Math.mulDiv(amountIn, priceA * 10 ** b.tokenDecimals, priceB * 10 ** a.tokenDecimals);
        fresh = true;
    }

    /// @dev The feed's answer scaled to 18 decimals, if fresh and within range.
    // Only the answer and its time matter (round ids say nothing to a staleness check).
    // slither-disable-next-line unused-return
    function _price(FxToken memory t) private view returns (bool ok, uint256 price) {
        if (t.feed == address(0)) return (false, 0);
        try AggregatorV3Interface(t.feed).latestRoundData() returns (
            uint80, int256 answer, uint256, uint256 updatedAt, uint80
        ) {
            if (answer <= 0 || updatedAt > block.timestamp || block.timestamp - updatedAt > t.heartbeat) {
                return (false, 0);
            }
            if (uint256(answer) > _MAX_PRICE) return (false, 0);
            price = uint256(answer) * 10 ** (18 - t.feedDecimals);
            if (price < _MIN_PRICE || price > _MAX_PRICE) return (false, 0);
            return (true, price);
        } catch {
            return (false, 0);
        }
    }

    function _withinBand(uint256 amountOut, uint256 feedOut) private view returns (bool) {
        uint256 diff = amountOut > feedOut ? amountOut - feedOut : feedOut - amountOut;
        return diff <= Math.mulDiv(feedOut, _deviationBandBps, BPS);
    }

    /// @dev EIP-712 encodes each element of a `uint24[]` as a 32-byte word.
    function _widen(uint24[] calldata fees) private pure returns (uint256[] memory wide) {
        wide = new uint256[](fees.length);
        for (uint256 i; i < fees.length; ++i) {
            wide[i] = fees[i];
        }
    }

    function _requireListed(address token) private view {
        if (_fxTokens[token].feed == address(0)) revert CrossBorderTokenNotListed(token);
    }

    function _revertNothingToWithdraw() internal pure override {
        revert CrossBorderNothingToWithdraw();
    }

    function _revertZeroAddress() internal pure override {
        revert CrossBorderZeroAddress();
    }
}
