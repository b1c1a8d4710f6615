// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGated} from "./IRiskGated.sol";
import {IRiskGatedVault} from "./IRiskGatedVault.sol";

/// @title IPaymentRouter
/// @notice Escrowed ETH and ERC-20 payments settled only by a final risk verdict.
interface IPaymentRouter is IRiskGatedVault {
    /// @notice Where a payment stands. An ABI client (Foundry's `cast`, web3) sees the number:
    /// 0 None (no such payment; {payment} reverts for it), 1 Pending (awaiting a verdict), 2 Held
    /// (a reviewer decides), 3 Settled (payee paid), 4 Refunded (payer paid back).
    enum Status {
        None,
        Pending,
        Held,
        Settled,
        Refunded
    }

    /// @notice A payment as stored (issue 16.4: one slot). Payer, payee and amount are not
    /// stored: they are in the payment's `PaymentRequested` log (its `amount` is what actually
    /// arrived: fee-on-transfer tokens are credited net), bound by `termsHash`; a Held payment's
    /// are also readable with {heldTerms}. `token`, `deadline` and `status` keep the positions they
    /// had in the two-slot struct (2, 4 and 5).
    struct Payment {
        bytes20 termsHash; // first 160 bits of keccak256(abi.encode(payer, payee, token, amount))
        uint16 score; // the applied verdict's score, 0 before
        address token; // address(0) for ETH
        uint16 feeBps; // the fee quoted at pay time, the one it settles at
        uint64 deadline; // verdict deadline; after it, reclaim refunds
        Status status;
    }

    event PaymentRequested(
        uint256 indexed id,
        address indexed payer,
        address indexed payee,
        address token,
        uint256 amount,
        bytes32 ref,
        uint64 deadline
    );
    event PaymentSettled(uint256 indexed id, address indexed payee, uint256 payeeAmount, uint256 fee, uint16 score);
    event PaymentHeld(uint256 indexed id, uint16 score);
    event PaymentRefunded(uint256 indexed id, address indexed payer, uint256 amount, uint16 score);
    event PaymentReviewed(uint256 indexed id, address indexed reviewer, bool approved);
    /// @notice A push to the payee (or payer) failed; the amount is credited for `withdraw`.
    event PaymentCredited(uint256 indexed id, address indexed account, address token, uint256 amount);
    event ThresholdsChanged(uint16 reviewThreshold, uint16 rejectThreshold);
    event FeeChanged(uint16 feeBps);
    event DeadlineWindowChanged(uint64 window);
    event ReviewWindowChanged(uint64 window);
    event OracleChanged(address oracle);
    event BlocklistUpdated(address indexed account, bool blocked);
    /// @notice `token` may be paid in (here and in the Escrow that reads this list); its payouts
    /// are pushed with at most `pushGas` gas.
    event TokenListed(address indexed token, uint32 pushGas);
    /// @notice `token` may no longer be paid in; what was paid in it still settles, refunds and
    /// withdraws, its payouts credited for `withdraw` instead of pushed.
    event TokenDelisted(address indexed token);
    /// @notice The DAO declared that `token` always delivers exactly the amount transferred
    /// (`exact`), so `pay` credits the amount asked without measuring the router's balance around
    /// the pull; or withdrew that declaration (the balance is measured again).
    event TokenExactTransferSet(address indexed token, bool exact);

    error PaymentRouterZeroAmount();
    error PaymentRouterZeroPayee();
    error PaymentRouterSelfPayment();
    error PaymentRouterValueMismatch(uint256 expected, uint256 sent);
    error PaymentRouterUnexpectedValue();
    error PaymentRouterNotAToken(address token);
    error PaymentRouterAmountTooLarge(uint256 amount);
    error PaymentRouterBlocked(address account);
    error PaymentRouterUnknownPayment(uint256 id);
    error PaymentRouterNotHeld(uint256 id);
    error PaymentRouterNotReclaimable(uint256 id);
    /// @notice The review window of a Held payment closed at `reviewDeadline`; only reclaim is left.
    error PaymentRouterReviewWindowPassed(uint256 id, uint256 reviewDeadline);
    error PaymentRouterOnlyOracle(address caller);
    error PaymentRouterInvalidThresholds(uint16 reviewThreshold, uint16 rejectThreshold);
    error PaymentRouterFeeTooHigh(uint16 feeBps);
    error PaymentRouterInvalidWindow(uint64 window);
    error PaymentRouterZeroAddress();
    error PaymentRouterLengthMismatch();
    error PaymentRouterNothingToWithdraw();
    /// @notice `token` is not on the DAO's token list (ETH, address(0), needs no listing).
    error PaymentRouterTokenNotListed(address token);
    /// @notice A push budget outside [MIN_TOKEN_PUSH_GAS, MAX_TOKEN_PUSH_GAS].
    error PaymentRouterInvalidPushGas(address token, uint32 pushGas);
    /// @notice The terms passed for payment `id` are not the ones it was made with.
    error PaymentRouterTermsMismatch(uint256 id);

    /// @notice Escrows a payment of `amount` of `token` (address(0) = ETH, sent as msg.value) to
    /// `payee` until a final verdict. Returns its id.
    ///
    /// Requirements:
    /// - not paused; neither party blocklisted; `payee` non-zero and not the sender;
    /// - `amount` > 0 and fits in 96 bits; for ETH `msg.value == amount`, for a token no value
    ///   and `token` is listed ({setToken}) and the router is approved for `amount`.
    function pay(address payee, address token, uint256 amount, bytes32 ref)
        external
        payable
        returns (uint256 id);

    /// @notice Many payments from the sender in one call (micropayments), each with its own id.
    /// For ETH, `msg.value` must equal the sum of `amounts`. Same requirements as `pay`.
    function payMany(address[] calldata payees, address token, uint256[] calldata amounts, bytes32[] calldata refs)
        external
        payable
        returns (uint256 firstId);

    /// @notice A reviewer approves (settles) or rejects (refunds) a Held payment.
    ///
    /// Requirements: the caller has REVIEWER_ROLE; the payment is Held and its review window
    /// (deadline + reviewWindow) has not passed; approving needs not paused.
    function review(uint256 id, bool approve) external;

    /// @notice Refunds a payment with no final verdict after its deadline (or a Held payment whose
    /// review window has also passed) to its payer. Anyone may call; works while paused. `terms`
    /// are the payment's (payer, payee, token, amount) as its `PaymentRequested` log gave them.
    function reclaim(uint256 id, IRiskGated.Terms calldata terms) external;

    // --- policy: DEFAULT_ADMIN_ROLE (the DAO timelock once governance takes over) -------------
    /// @notice Requirements: caller has DEFAULT_ADMIN_ROLE; review < reject <= 10000.
    function setThresholds(uint16 newReviewThreshold, uint16 newRejectThreshold) external;
    /// @notice Sets the fee quoted to payments made from now on; a payment already made settles at
    /// the fee it was quoted.
    /// Requirements: caller has DEFAULT_ADMIN_ROLE; fee <= MAX_FEE_BPS (1000 = 10%).
    function setFeeBps(uint16 newFeeBps) external;
    /// @notice Requirements: caller has DEFAULT_ADMIN_ROLE; window within [1 minute, 30 days].
    function setDeadlineWindow(uint64 window) external;
    /// @notice Requirements: caller has DEFAULT_ADMIN_ROLE; window within [1 minute, 30 days].
    function setReviewWindow(uint64 window) external;
    /// @notice Requirements: caller has DEFAULT_ADMIN_ROLE; non-zero address.
    function setOracle(address newOracle) external;
    /// @notice Requirements: caller has DEFAULT_ADMIN_ROLE.
    function setBlocked(address account, bool blocked) external;
    /// @notice Declares that `token`, a listed token, always delivers exactly the amount of a
    /// transfer (no fee on transfer, no rebasing): `pay` and `payMany` then skip the two
    /// `balanceOf` calls that measure what arrived (about 2,000 gas a payment). Declare it only for
    /// a token without a fee switch (USDC and DAI qualify; USDT has a fee parameter, zero today):
    /// a token declared exact that later takes a fee would be credited more than the router
    /// received. A Major-track governance action, like a listing.
    ///
    /// Requirements: caller has DEFAULT_ADMIN_ROLE; `token` is listed.
    function setTokenExactTransfer(address token, bool exact) external;
    /// @notice Whether `token` is declared exact-transfer ({setTokenExactTransfer}).
    function tokenExactTransfer(address token) external view returns (bool);

    /// @notice Lists `token` (or changes its budget): payments and escrow agreements may be made in
    /// it, and its payouts are pushed with at most `pushGas` gas (a push that needs more is
    /// credited for `withdraw`). A listing is a Major-track governance action.
    ///
    /// Requirements: caller has DEFAULT_ADMIN_ROLE; `token` is a contract (not ETH, which is always
    /// accepted); `pushGas` within [MIN_TOKEN_PUSH_GAS, MAX_TOKEN_PUSH_GAS].
    function setToken(address token, uint32 pushGas) external;
    /// @notice Delists `token`: no new payment or agreement in it. Money already paid in it is
    /// never trapped: it still settles, refunds and withdraws, its payouts credited (no push).
    ///
    /// Requirements: caller has DEFAULT_ADMIN_ROLE; `token` is listed.
    function delistToken(address token) external;

    /// @notice The push budget of `token` (0: not listed). Escrow reads its budgets here.
    function tokenPushGas(address token) external view returns (uint32);
    /// @notice Every listed token and its push budget, in listing order (for operators and the
    /// oracle node).
    function listedTokens() external view returns (address[] memory tokens, uint32[] memory pushGas);

    /// @notice Payment `id` as stored. `status` is a {Status} (0 None ... 4 Refunded).
    ///
    /// Requirements: `id` exists (1 <= id <= {paymentCount}); otherwise reverts with
    /// `PaymentRouterUnknownPayment(id)`.
    function payment(uint256 id) external view returns (Payment memory);
    /// @notice The terms of Held payment `id`, written when it was held (what {review} pays out
    /// by). Requirements: `id` exists and is Held (else `PaymentRouterNotHeld`).
    function heldTerms(uint256 id) external view returns (IRiskGated.Terms memory);
    /// @notice The 160 bits of `terms` a payment's slot keeps: compare with `payment(id).termsHash`.
    function termsHash(IRiskGated.Terms calldata terms) external pure returns (bytes20);
    /// @notice The number of payments made, which is also the id of the latest: ids are 1, 2, 3...
    /// in the order of `pay` calls (a `payMany` takes consecutive ids). `pay` returns the new id;
    /// a client that cannot read return values (`cast send`) takes it from the `PaymentRequested`
    /// log of its transaction (topic 1), or, alone on the router, as `paymentCount()` afterwards.
    function paymentCount() external view returns (uint256);
    function reviewThreshold() external view returns (uint16);
    function rejectThreshold() external view returns (uint16);
    function feeBps() external view returns (uint16);
    /// @notice The thresholds and fee in one call (what Escrow applies its verdicts under).
    function riskPolicy() external view returns (RiskPolicy memory);

    // --- added with the implementation: policy and per-payment views ---------------------------
    /// @notice The score of the verdict applied to `id` (0 while none was applied).
    /// Requirements: `id` exists (else `PaymentRouterUnknownPayment`).
    function paymentScore(uint256 id) external view returns (uint16);
    /// @notice The fee (basis points) quoted to `id` when it was paid: the fee it settles at, even
    /// if governance changed `feeBps` since.
    /// Requirements: `id` exists (else `PaymentRouterUnknownPayment`).
    function paymentFeeBps(uint256 id) external view returns (uint16);
    function oracle() external view returns (address);
    function deadlineWindow() external view returns (uint64);
    function reviewWindow() external view returns (uint64);
    function isBlocked(address account) external view returns (bool);
}
