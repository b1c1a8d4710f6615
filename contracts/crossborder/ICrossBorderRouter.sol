// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGatedVault} from "../interfaces/IRiskGatedVault.sol";

/// @title ICrossBorderRouter
/// @notice Pay in one token, settle in another, behind the Verdict risk gate (issue 18).
///
/// The payer pays `amountIn` of `tokenIn` for a payee who is to receive `tokenOut`. Nothing is
/// swapped before a final verdict. An oracle node signs a quote (EIP-712 {Quote}: amount out,
/// minimum out, route, expiry) that anyone may post with {submitQuote}. On a settling verdict
/// (or a reviewer's approval of a held payment, with a quote posted after the hold) the router
/// swaps through the quoted route (Uniswap v2 and v3 hops) with the quote's minimum out and checks the
/// realised amount against the tokens' price feeds: the payee gets `tokenOut` (less the protocol
/// fee). If there is no quote, it expired, a feed is stale, the quote or the fill is outside the
/// DAO's deviation band, or the swap fails, the payer is refunded in full in `tokenIn`.
///
/// Status numbers (as an ABI client sees them): 0 None, 1 Pending, 2 Held, 3 Settled, 4 Refunded.
interface ICrossBorderRouter is IRiskGatedVault {
    enum Status {
        None,
        Pending,
        Held,
        Settled,
        Refunded
    }

    /// @notice Why a payment was refunded: 0 Rejected (the verdict), 1 ReviewRejected, 2 Reclaimed
    /// (no verdict or review in time), 3 NoQuote, 4 QuoteExpired, 5 FeedStale, 6 QuoteOffFeed,
    /// 7 SwapFailed (below minimum out, fill outside the band, or the route reverted), 8 LockUncovered
    /// (a rate lock's shortfall exceeded the lock reserve).
    enum RefundReason {
        Rejected,
        ReviewRejected,
        Reclaimed,
        NoQuote,
        QuoteExpired,
        FeedStale,
        QuoteOffFeed,
        SwapFailed,
        LockUncovered
    }

    struct Payment {
        address payer;
        uint64 deadline; // verdict deadline while Pending, review deadline while Held
        Status status;
        address payee;
        address tokenIn;
        address tokenOut;
        uint256 amountIn; // what actually arrived
    }

    /// @notice A node's quote for one payment. `amountOut` / `amountIn` is the quoted rate;
    /// `minOut` the least the payee may receive; `path` the route's tokens, `tokenIn` first and
    /// `tokenOut` last, at most 3 hops; `fees[i]` the pool of hop i: 0 for the Uniswap v2 pair, else
    /// the Uniswap v3 pool of that fee tier (500, 3000, 10000); `issuedAt` orders a payment's quotes (a newer one replaces
    /// an older one, never the reverse); `expiry` the last second it may be used.
    struct Quote {
        uint256 paymentId;
        uint256 amountIn;
        uint256 amountOut;
        uint256 minOut;
        address[] path;
        uint24[] fees;
        uint64 issuedAt;
        uint64 expiry;
    }

    /// @notice A node's rate lock offer for one payment, bought by its payer with {buyLock}: settled
    /// by `expiry`, the payee gets at least `lockedOut` of `tokenOut` (after the protocol fee); a
    /// shortfall of the swap is paid from the lock reserve, and if the reserve cannot pay it the
    /// payer is refunded in full. `premium` (in `tokenIn`) goes to the reserve once the payment
    /// settles. The offer must be bought within {LOCK_OFFER_TTL} of `issuedAt`.
    struct RateLock {
        uint256 paymentId;
        uint256 amountIn;
        uint256 lockedOut;
        uint256 premium;
        uint64 issuedAt;
        uint64 expiry;
    }

    /// @notice One conversion, as {swapExact} takes it: swap `amountIn` along `path`/`fees`, at
    /// least `bound` to arrive; what arrives less the fee (`feeBps`) short of `lockedOut` (0: no
    /// lock) is paid by the lock reserve, or the swap reverts.
    struct SwapOrder {
        uint256 amountIn;
        uint256 bound;
        uint256 lockedOut;
        uint256 feeBps;
        address[] path;
        uint24[] fees;
    }

    /// @notice A listed currency token: its price feed (the token's price in USD), the feed's
    /// heartbeat (the oldest answer accepted, seconds), decimals, and the gas a push is given.
    struct FxToken {
        address feed;
        uint32 heartbeat;
        uint8 tokenDecimals;
        uint8 feedDecimals;
        uint32 pushGas;
    }

    event CrossBorderRequested(
        uint256 indexed id,
        address indexed payer,
        address indexed payee,
        address tokenIn,
        address tokenOut,
        uint256 amountIn,
        uint64 deadline
    );
    event QuoteAccepted(
        uint256 indexed id, bytes32 indexed quoteHash, address indexed node, uint256 amountOut, uint256 minOut, uint64 expiry
    );
    event CrossBorderSettled(
        uint256 indexed id, address indexed payee, uint256 amountOut, uint256 fee, uint16 score, bytes32 quoteHash
    );
    event CrossBorderHeld(uint256 indexed id, uint16 score, uint64 reviewDeadline);
    event CrossBorderReviewed(uint256 indexed id, address indexed reviewer, bool approved);
    event CrossBorderRefunded(uint256 indexed id, address indexed payer, uint256 amountIn, RefundReason reason);
    event CrossBorderCredited(uint256 indexed id, address indexed account, address token, uint256 amount);
    event RateLockBought(
        uint256 indexed id, bytes32 indexed lockHash, address indexed node, uint256 lockedOut, uint256 premium, uint64 expiry
    );
    /// @notice A locked payment settled: `cover` of `tokenOut` came from the reserve.
    event RateLockHonoured(uint256 indexed id, uint256 cover);
    event RateLockPremiumRefunded(uint256 indexed id, address indexed payer, uint256 premium);
    event FxTokenSet(address indexed token, address feed, uint32 heartbeat, uint32 pushGas);
    event FxTokenRemoved(address indexed token);
    event DeviationBandChanged(uint16 bps);

    error CrossBorderZeroAddress();
    error CrossBorderZeroAmount();
    error CrossBorderAmountTooLarge(uint256 amount);
    error CrossBorderSameToken(address token);
    error CrossBorderTokenNotListed(address token);
    error CrossBorderBlocked(address account);
    error CrossBorderNothingReceived();
    error CrossBorderUnknownPayment(uint256 id);
    error CrossBorderNotQuotable(uint256 id, Status status);
    error CrossBorderQuoteMismatch(uint256 id);
    error CrossBorderInvalidRoute(uint256 id);
    error CrossBorderQuoteExpired(uint256 id, uint64 expiry);
    error CrossBorderQuoteNotNewer(uint256 id, uint64 issuedAt);
    error CrossBorderQuoteOffFeed(uint256 id, uint256 amountOut, uint256 feedAmountOut);
    error CrossBorderFeedStale(address token);
    error CrossBorderInvalidSigner(address signer);
    error CrossBorderNotHeld(uint256 id);
    error CrossBorderReviewWindowPassed(uint256 id, uint64 reviewDeadline);
    error CrossBorderNotReclaimable(uint256 id);
    error CrossBorderOnlyOracle(address sender);
    error CrossBorderOnlySelf(address sender);
    error CrossBorderFillBelowBound(uint256 received, uint256 bound);
    error CrossBorderInputMismatch(uint256 spent, uint256 amountIn);
    error CrossBorderInvalidBand(uint16 bps);
    error CrossBorderInvalidHeartbeat(uint32 heartbeat);
    error CrossBorderInvalidPushGas(uint32 pushGas);
    error CrossBorderInvalidDecimals(uint8 tokenDecimals, uint8 feedDecimals);
    error CrossBorderNothingToWithdraw();
    error CrossBorderNotPayer(uint256 id, address sender);
    error CrossBorderNotLockable(uint256 id);
    error CrossBorderLockMismatch(uint256 id);
    error CrossBorderLockStale(uint256 id, uint64 issuedAt);
    error CrossBorderLockOffFeed(uint256 id, uint256 lockedOut, uint256 feedAmountOut);
    error CrossBorderLockUncovered(uint256 shortfall, uint256 reserve);

    /// @notice Pays `amountIn` of `tokenIn` for `payee`, to be settled in `tokenOut`; returns the id.
    ///
    /// Requirements:
    /// - not paused; neither the payer nor `payee` blocked on the PaymentRouter;
    /// - `payee` non-zero; `tokenIn` and `tokenOut` listed ({setFxToken}) and different;
    /// - `amountIn` non-zero, below 2**96, approved to this contract, and something arrives.
    function pay(address payee, address tokenIn, address tokenOut, uint256 amountIn) external returns (uint256 id);

    /// @notice Posts an oracle node's signed quote for payment `quote.paymentId`. Anyone may post.
    ///
    /// Requirements:
    /// - the payment is Pending or Held;
    /// - the quote matches the payment (amount in, route from `tokenIn` to `tokenOut`, 1 to 3
    ///   hops through listed tokens only) and `minOut <= amountOut`;
    /// - it has not expired and is newer than the payment's current quote (for a Held payment:
    ///   issued after the second of the hold);
    /// - its rate is within the deviation band of the feeds, which are fresh;
    /// - `signature` is an EIP-712 signature of it by a registered RiskOracle node.
    function submitQuote(Quote calldata quote, bytes calldata signature) external;

    /// @notice Buys a node's rate lock for the caller's payment, paying `lock.premium` of `tokenIn`.
    ///
    /// Requirements:
    /// - not paused; the caller is the payment's payer; the payment is Pending, without a lock;
    /// - the lock matches the payment's `amountIn`, `lockedOut` is non-zero;
    /// - it was issued at most {LOCK_OFFER_TTL} ago (not in the future), and its tenor ends after
    ///   now and at most {MAX_LOCK_TENOR} after issue;
    /// - the feeds are fresh, and `lockedOut` is at most their rate and within the deviation band
    ///   below it (a lock may not promise more than the market gives now);
    /// - `signature` is an EIP-712 signature of it by a registered RiskOracle node;
    /// - exactly `premium` arrives.
    function buyLock(RateLock calldata lock, bytes calldata signature) external;

    /// @notice Approves (converts with the quote posted since the hold, or refunds) or rejects
    /// (refunds) a Held payment.
    ///
    /// Requirements:
    /// - the caller has REVIEWER_ROLE; the payment is Held and its review window open;
    /// - to approve, not paused.
    function review(uint256 id, bool approve) external;

    /// @notice Refunds a payment whose verdict or review did not come in time. Anyone may call.
    ///
    /// Requirements:
    /// - the payment is Pending past its verdict deadline or Held past its review deadline.
    function reclaim(uint256 id) external;

    /// @notice Lists `token` as a currency with its USD price feed, heartbeat and push budget.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE;
    /// - `token` and `feed` non-zero; 1 minute <= `heartbeat` <= 7 days;
    /// - `pushGas` within the vault's [MIN_TOKEN_PUSH_GAS, MAX_TOKEN_PUSH_GAS];
    /// - the token's and the feed's decimals at most 18.
    function setFxToken(address token, address feed, uint32 heartbeat, uint32 pushGas) external;

    /// @notice Delists `token`: no new payment, quote or route may use it; pending ones refund.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE; `token` listed.
    function removeFxToken(address token) external;

    /// @notice Sets the deviation band: how far a quote's rate may stray from the feeds' rate
    /// (either way), and how far below the feeds' rate a fill may land.
    ///
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE; 1 <= `bps` <= 1000.
    function setDeviationBand(uint16 bps) external;

    function payment(uint256 id) external view returns (Payment memory);
    function paymentCount() external view returns (uint256);
    /// @notice The current quote of `id` (all zero when none) and its EIP-712 hash.
    function quoteOf(uint256 id)
        external
        view
        returns (uint256 amountOut, uint256 minOut, uint64 issuedAt, uint64 expiry, bytes32 quoteHash);

    function fxToken(address token) external view returns (FxToken memory);
    /// @notice `amountIn` of `tokenIn` in `tokenOut` at the feeds' prices; reverts if a feed is stale.
    function feedAmountOut(address tokenIn, address tokenOut, uint256 amountIn) external view returns (uint256);
    function deviationBandBps() external view returns (uint16);
    function oracle() external view returns (address);
    function policy() external view returns (address);
    /// @notice Payment `id`'s rate lock (all zero when none; `premium` 0 once settled or refunded).
    function lockOf(uint256 id)
        external
        view
        returns (uint256 lockedOut, uint256 premium, uint64 issuedAt, uint64 expiry, bytes32 lockHash);
    /// @notice The FxLockReserve: pays rate locks' shortfalls, receives their premiums.
    function lockReserve() external view returns (address);
}
