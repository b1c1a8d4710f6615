// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IRiskGatedVault} from "../interfaces/IRiskGatedVault.sol";
import {SafePush} from "../utils/SafePush.sol";

/// @title RiskGatedVault
/// @notice The vault under PaymentRouter and Escrow: money held until a risk verdict, paid out by
/// a gas-bounded push that credits the recipient when it fails ({withdraw} pulls the credit),
/// protocol fees accrued per token and swept to the treasury, a guardian pause, and the one rule
/// that turns a score into a settlement, a hold or a rejection ({_band}).
///
/// A derived contract supplies its own errors through {_revertNothingToWithdraw} and
/// {_revertZeroAddress}, emits its own "credited" event when {_pushOrCredit} returns false, and
/// keeps its own oracle and item storage.
///
/// Roles are enumerable (OpenZeppelin AccessControlEnumerable): `getRoleMembers(role)` lists any
/// role's holders, {reviewers} and {guardians} the two this vault defines.
abstract contract RiskGatedVault is IRiskGatedVault, AccessControlEnumerable, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice May approve or reject Held items.
    bytes32 public constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");
    /// @notice May pause in an emergency (unpausing is the admin's).
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    /// @notice Scores and fees are in basis points of this.
    uint16 public constant BPS = 10_000;
    /// @notice Upper bound of the protocol fee taken from a settlement: 10%.
    uint16 public constant MAX_FEE_BPS = 1000;

    /// @notice Gas forwarded with an ETH push (plus the EVM's 2,300 stipend of a value call).
    /// @dev One number for both contracts (the router used 30,000 and the escrow 50,000). 50,000:
    /// a smart-wallet payee is usually a proxy, whose `receive` costs a cold SLOAD of the
    /// implementation slot (2,100) and a cold DELEGATECALL (2,600) before any work; a wallet that
    /// records the deposit writes a fresh slot (22,100) and logs (~2,000): about 30,000 already,
    /// so 30,000 would credit honest wallets that 50,000 pays. The price of the higher cap is paid
    /// only for a hostile payee: 50,000 per item of a verdict batch, a third of what a hostile
    /// token may take ({TOKEN_PUSH_GAS}), so it adds no new worst case. A recipient that needs
    /// more is credited and withdraws with all the gas it wants.
    uint256 public constant ETH_PUSH_GAS = 50_000;
    /// @notice The most gas a token's `transfer` is ever given on a push: the upper bound of a
    /// listed token's push budget (issue 13.6). See {SafePush-TOKEN_PUSH_GAS}.
    uint256 public constant TOKEN_PUSH_GAS = SafePush.TOKEN_PUSH_GAS;
    /// @notice The upper bound of a listed token's push budget (= {TOKEN_PUSH_GAS}).
    uint32 public constant MAX_TOKEN_PUSH_GAS = uint32(SafePush.TOKEN_PUSH_GAS);
    /// @notice The lower bound of a listed token's push budget: an OpenZeppelin ERC20 `transfer`
    /// to a recipient that holds none yet (the dearest honest case, a zero-to-non-zero balance
    /// write) measured about 33,000 gas (tests/contracts/test_hostile_tokens.py); 40,000 leaves
    /// headroom, so a budget the DAO can set never credits every push of an honest plain token.
    uint32 public constant MIN_TOKEN_PUSH_GAS = 40_000;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev What a verdict does with an item, from its score ({_band}).
    enum Band {
        Settle,
        Hold,
        Reject
    }

    address private _treasury;
    mapping(address account => mapping(address token => uint256)) private _credited;
    mapping(address token => uint256) private _feesAccrued;

    /// @param treasury_ where swept protocol fees go; the derived constructor rejects zero with its
    /// own error
    constructor(address treasury_) {
        _treasury = treasury_;
    }

    /*//////////////////////////////////////////////////////////////
                           WITHDRAW AND SWEEP
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskGatedVault
    function withdraw(address token) external nonReentrant {
        uint256 amount = _credited[msg.sender][token];
        if (amount == 0) _revertNothingToWithdraw();
        _credited[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        _send(token, msg.sender, amount);
    }

    /// @inheritdoc IRiskGatedVault
    function sweepFees(address token) external nonReentrant {
        uint256 amount = _feesAccrued[token];
        if (amount == 0) _revertNothingToWithdraw();
        address to = _treasury;
        _feesAccrued[token] = 0;
        emit FeesSwept(token, to, amount);
        _send(token, to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                            ADMINISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskGatedVault
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) _revertZeroAddress();
        _treasury = newTreasury;
        emit TreasuryChanged(newTreasury);
    }

    /// @inheritdoc IRiskGatedVault
    function pause() external {
        if (!hasRole(GUARDIAN_ROLE, msg.sender) && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AccessControlUnauthorizedAccount(msg.sender, GUARDIAN_ROLE);
        }
        _pause();
    }

    /// @inheritdoc IRiskGatedVault
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskGatedVault
    function credited(address account, address token) external view returns (uint256) {
        return _credited[account][token];
    }

    /// @inheritdoc IRiskGatedVault
    function feesAccrued(address token) external view returns (uint256) {
        return _feesAccrued[token];
    }

    /// @inheritdoc IRiskGatedVault
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IRiskGatedVault
    function reviewers() external view returns (address[] memory) {
        return getRoleMembers(REVIEWER_ROLE);
    }

    /// @inheritdoc IRiskGatedVault
    function guardians() external view returns (address[] memory) {
        return getRoleMembers(GUARDIAN_ROLE);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev The score-to-band rule: at or above the reject threshold rejects; in the review band,
    /// or while paused, holds for a reviewer; below it settles. A pause never blocks a rejection.
    /// Takes the two thresholds of a {RiskPolicy} rather than the struct: no memory copy per item
    /// of a verdict batch.
    function _band(uint16 score, uint16 reviewThreshold, uint16 rejectThreshold)
        internal
        view
        virtual
        returns (Band)
    {
        if (score >= rejectThreshold) return Band.Reject;
        if (score >= reviewThreshold || paused()) return Band.Hold;
        return Band.Settle;
    }

    /// @dev Accrues the protocol fee of `amount` at `feeBps` for `token` and returns it. The rate
    /// is capped here at {MAX_FEE_BPS}, whatever the caller passes: Escrow takes its rate from the
    /// router it is pointed at, and a replaced router may answer anything (issue 13.3). So the fee
    /// is at most 10% of `amount`, the promise of docs/security.md.
    function _accrueFee(address token, uint256 amount, uint256 feeBps) internal virtual returns (uint256 fee) {
        if (feeBps > MAX_FEE_BPS) feeBps = MAX_FEE_BPS;
        fee = (amount * feeBps) / BPS;
        if (fee != 0) _feesAccrued[token] += fee;
    }

    /// @dev Pushes `amount` of `token` (address(0) = ETH) to `to` with a bounded amount of gas:
    /// {ETH_PUSH_GAS} for ETH, `tokenPushGas` (the token's listed budget, capped here at
    /// {TOKEN_PUSH_GAS} whatever the caller passes) for a token, and no call at all for a token
    /// budget of 0 (delisted: credited straight away). If the push fails, credits it for
    /// {withdraw} and returns false, so the caller emits its own event. Never reverts because of
    /// the recipient or the token. Callers are `nonReentrant` and have recorded their outcome
    /// first, so the credit written after the external call cannot be raced.
    function _pushOrCredit(address token, address to, uint256 amount, uint256 tokenPushGas)
        internal
        virtual
        returns (bool pushed)
    {
        if (tokenPushGas > TOKEN_PUSH_GAS) tokenPushGas = TOKEN_PUSH_GAS;
        return SafePush.pushOrCredit(_credited, token, to, amount, ETH_PUSH_GAS, tokenPushGas);
    }

    /// @dev Sends `amount` of `token` (address(0) = ETH) with all remaining gas; reverts on failure.
    function _send(address token, address to, uint256 amount) internal virtual {
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev Reverts with the derived contract's "nothing to withdraw" error.
    function _revertNothingToWithdraw() internal pure virtual;

    /// @dev Reverts with the derived contract's "zero address" error.
    function _revertZeroAddress() internal pure virtual;
}
