// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title VoteRelay
/// @notice Lets members vote and delegate without holding ETH: the DAO's relayer submits members'
/// EIP-712 signed ballots (`castVoteBySig`, `castVoteWithReasonAndParamsBySig` on the governor) and
/// delegations (`delegateBySig` on the token) in batches, and this contract reimburses the relayer's gas
/// from its ETH balance, which the DAO funds by treasury proposals (plain ETH transfers to it).
///
/// What the relayer cannot do:
/// - call anything else: each batch element must start with one of the three allowed selectors, and the
///   selector decides the target (governor or token); any other element reverts the whole batch;
/// - drain the budget: gas is reimbursed at min(tx.gasprice, {maxGasPrice}), and a batch is never
///   reimbursed more than {maxBatchCost} of its length, so failing elements (bad or replayed signatures)
///   cost at most {itemGasLimit} each;
/// - re-enter: {relay} is non-reentrant, and the reimbursement is the last thing it does.
///
/// A failing element does not revert the batch: it is reported by {RelayedCallFailed} with its index and
/// revert data, and the rest are still submitted.
contract VoteRelay is Ownable, ReentrancyGuard {
    /*//////////////////////////////////////////////////////////////
                             EVENTS / ERRORS
    //////////////////////////////////////////////////////////////*/

    event RelayedCallFailed(uint256 indexed index, bytes4 indexed selector, bytes reason);
    event BatchRelayed(
        address indexed relayer, uint256 succeeded, uint256 failed, uint256 gasUsed, uint256 gasPrice, uint256 reimbursed
    );
    event RelayerChanged(address indexed oldRelayer, address indexed newRelayer);
    event MaxGasPriceChanged(uint256 oldMaxGasPrice, uint256 newMaxGasPrice);
    event ItemGasLimitChanged(uint256 oldItemGasLimit, uint256 newItemGasLimit);
    event Funded(address indexed from, uint256 amount);
    event Withdrawn(address indexed to, uint256 amount);

    error VoteRelayUnauthorizedRelayer(address caller);
    error VoteRelayEmptyBatch();
    error VoteRelayBatchTooLarge(uint256 length, uint256 max);
    error VoteRelayCallNotAllowed(uint256 index, bytes4 selector);
    error VoteRelayBudgetSpent(uint256 budgetLeft, uint256 needed);
    error VoteRelayOutOfGas(uint256 index, uint256 gasLeft);
    error VoteRelayReimbursementFailed(address relayer, uint256 amount);
    error VoteRelayWithdrawalFailed(address to, uint256 amount);
    error VoteRelayZeroAddress();
    error VoteRelayInvalidItemGasLimit(uint256 itemGasLimit);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice castVoteBySig(uint256,uint8,address,bytes) on the governor.
    bytes4 public constant CAST_VOTE_BY_SIG = 0x8ff262e3;
    /// @notice castVoteWithReasonAndParamsBySig(uint256,uint8,address,string,bytes,bytes) on the governor.
    bytes4 public constant CAST_VOTE_WITH_REASON_AND_PARAMS_BY_SIG = 0x5b8d0e0d;
    /// @notice delegateBySig(address,uint256,uint256,uint8,bytes32,bytes32) on the token.
    bytes4 public constant DELEGATE_BY_SIG = 0xc3cda520;

    /// @notice Most elements in one batch (bounds the gas one transaction may be reimbursed).
    uint256 public constant MAX_BATCH = 64;
    /// @notice Gas a batch spends outside its elements' calls: the transaction's base cost, its calldata
    /// (bounded by 16 gas a byte) and this contract's own work, per batch and per element.
    uint256 public constant BATCH_OVERHEAD_GAS = 40_000;
    uint256 public constant ITEM_OVERHEAD_GAS = 12_000;
    /// @notice Calldata bytes an element is reimbursed for at most (a ballot with a short reason or params);
    /// a longer element's calldata is the relayer's own cost.
    uint256 public constant ITEM_CALLDATA_BYTES = 640;
    /// @notice Bounds on {itemGasLimit}: enough for a quadratic ballot, never a blank cheque.
    uint256 public constant MIN_ITEM_GAS = 50_000;
    uint256 public constant MAX_ITEM_GAS = 1_000_000;

    address private immutable _governor;
    address private immutable _token;
    address private _relayer;
    uint256 private _maxGasPrice;
    uint256 private _itemGasLimit;
    uint256 private _spent;

    /// @param owner_ the DAO's timelock: sets the relayer, the gas price cap and the item gas limit
    /// @param governor_ the governor whose castVoteBySig and castVoteWithReasonAndParamsBySig may be relayed
    /// @param token_ the votes token whose delegateBySig may be relayed
    /// @param relayer_ the only account that may call {relay}
    /// @param maxGasPrice_ the highest gas price (wei) the relayer is reimbursed at
    /// @param itemGasLimit_ the gas each element's call gets, see {itemGasLimit}
    constructor(
        address owner_,
        address governor_,
        address token_,
        address relayer_,
        uint256 maxGasPrice_,
        uint256 itemGasLimit_
    ) Ownable(owner_) {
        if (governor_ == address(0) || token_ == address(0) || relayer_ == address(0)) {
            revert VoteRelayZeroAddress();
        }
        _governor = governor_;
        _token = token_;
        _setRelayer(relayer_);
        _setMaxGasPrice(maxGasPrice_);
        _setItemGasLimit(itemGasLimit_);
    }

    /// @notice Funds the reimbursement budget (the DAO sends ETH by a treasury proposal).
    receive() external payable {
        emit Funded(msg.sender, msg.value);
    }

    /*//////////////////////////////////////////////////////////////
                                 RELAY
    //////////////////////////////////////////////////////////////*/

    /// @notice Submits `calls` (each the full calldata of castVoteBySig, castVoteWithReasonAndParamsBySig or
    /// delegateBySig) and reimburses the caller's gas at min(tx.gasprice, {maxGasPrice}), at most
    /// {maxBatchCost}. Returns how many elements succeeded.
    ///
    /// Requirements:
    /// - the caller is the {relayer};
    /// - `calls` is not empty and has at most {MAX_BATCH} elements;
    /// - every element starts with an allowed selector (checked before anything is called);
    /// - the budget ({budgetLeft}) covers {maxBatchCost} of `calls.length` at this gas price;
    /// - the transaction carries enough gas for every element's {itemGasLimit}.
    function relay(bytes[] calldata calls) external nonReentrant returns (uint256 succeeded) {
        uint256 gasStart = gasleft();
        if (msg.sender != _relayer) revert VoteRelayUnauthorizedRelayer(msg.sender);
        uint256 n = calls.length;
        if (n == 0) revert VoteRelayEmptyBatch();
        if (n > MAX_BATCH) revert VoteRelayBatchTooLarge(n, MAX_BATCH);
        address[] memory targets = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            targets[i] = _targetOf(i, calls[i]);
        }
        uint256 price = Math.min(tx.gasprice, _maxGasPrice);
        uint256 cap = maxBatchCost(n, price);
        if (address(this).balance < cap) revert VoteRelayBudgetSpent(address(this).balance, cap);

        uint256 itemGas = _itemGasLimit;
        for (uint256 i = 0; i < n; ++i) {
            // The 63/64 rule: without this check a relayer could starve an element so that it fails
            // and still be paid for it.
            if (gasleft() < itemGas + itemGas / 63 + ITEM_OVERHEAD_GAS) revert VoteRelayOutOfGas(i, gasleft());
            (bool ok, bytes memory reason) = targets[i].call{gas: itemGas}(calls[i]);
            if (ok) {
                ++succeeded;
            } else {
                emit RelayedCallFailed(i, bytes4(calls[i][:4]), reason);
            }
        }

        uint256 gasUsed = gasStart - gasleft() + BATCH_OVERHEAD_GAS + 16 * msg.data.length;
        uint256 amount = Math.min(gasUsed * price, cap);
        _spent += amount;
        emit BatchRelayed(msg.sender, succeeded, n - succeeded, gasUsed, price, amount);
        (bool paid,) = payable(msg.sender).call{value: amount}("");
        if (!paid) revert VoteRelayReimbursementFailed(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The ETH left to reimburse relayed gas with (this contract's balance).
    function budgetLeft() external view returns (uint256) {
        return address(this).balance;
    }

    /// @notice The ETH reimbursed to relayers so far.
    function spent() external view returns (uint256) {
        return _spent;
    }

    /// @notice The most a batch of `length` elements may be reimbursed at `gasPrice` (already capped by
    /// {maxGasPrice}): every element's {itemGasLimit} plus the per-element and per-batch overheads. A batch
    /// is submitted only when the budget covers this.
    function maxBatchCost(uint256 length, uint256 gasPrice) public view returns (uint256) {
        uint256 perItem = _itemGasLimit + ITEM_OVERHEAD_GAS + 16 * ITEM_CALLDATA_BYTES;
        return (length * perItem + BATCH_OVERHEAD_GAS) * gasPrice;
    }

    function governor() external view returns (address) {
        return _governor;
    }

    function token() external view returns (address) {
        return _token;
    }

    function relayer() external view returns (address) {
        return _relayer;
    }

    function maxGasPrice() external view returns (uint256) {
        return _maxGasPrice;
    }

    /// @notice The gas each element's call is given: a failing element costs the budget at most this.
    function itemGasLimit() external view returns (uint256) {
        return _itemGasLimit;
    }

    /// @notice Whether `data` may be relayed, and to which contract (address(0) when it may not).
    function targetOf(bytes calldata data) external view returns (address) {
        if (data.length < 4) return address(0);
        return _allowedTarget(bytes4(data[:4]));
    }

    /*//////////////////////////////////////////////////////////////
                            DAO SETTINGS
    //////////////////////////////////////////////////////////////*/

    /// @notice Names the account allowed to call {relay}.
    ///
    /// Requirements:
    /// - the caller is the owner (the DAO's timelock);
    /// - `newRelayer` is not the zero address.
    function setRelayer(address newRelayer) external onlyOwner {
        _setRelayer(newRelayer);
    }

    /// @notice Sets the highest gas price (wei) relayed gas is reimbursed at.
    ///
    /// Requirements:
    /// - the caller is the owner (the DAO's timelock).
    function setMaxGasPrice(uint256 newMaxGasPrice) external onlyOwner {
        _setMaxGasPrice(newMaxGasPrice);
    }

    /// @notice Sets the gas each element's call is given.
    ///
    /// Requirements:
    /// - the caller is the owner (the DAO's timelock);
    /// - `newItemGasLimit` is within [{MIN_ITEM_GAS}, {MAX_ITEM_GAS}].
    function setItemGasLimit(uint256 newItemGasLimit) external onlyOwner {
        _setItemGasLimit(newItemGasLimit);
    }

    /// @notice Sends `amount` of the budget back to `to` (the DAO winding the relay down).
    ///
    /// Requirements:
    /// - the caller is the owner (the DAO's timelock);
    /// - `to` is not the zero address and accepts ETH.
    function withdraw(address payable to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0)) revert VoteRelayZeroAddress();
        emit Withdrawn(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert VoteRelayWithdrawalFailed(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _targetOf(uint256 index, bytes calldata data) internal view returns (address target) {
        bytes4 selector = data.length < 4 ? bytes4(0) : bytes4(data[:4]);
        target = _allowedTarget(selector);
        if (target == address(0)) revert VoteRelayCallNotAllowed(index, selector);
    }

    /// @dev The allow-list: each selector has exactly one target.
    function _allowedTarget(bytes4 selector) internal view virtual returns (address) {
        if (selector == CAST_VOTE_BY_SIG || selector == CAST_VOTE_WITH_REASON_AND_PARAMS_BY_SIG) return _governor;
        if (selector == DELEGATE_BY_SIG) return _token;
        return address(0);
    }

    function _setRelayer(address newRelayer) internal {
        if (newRelayer == address(0)) revert VoteRelayZeroAddress();
        address old = _relayer;
        _relayer = newRelayer;
        emit RelayerChanged(old, newRelayer);
    }

    function _setMaxGasPrice(uint256 newMaxGasPrice) internal {
        uint256 old = _maxGasPrice;
        _maxGasPrice = newMaxGasPrice;
        emit MaxGasPriceChanged(old, newMaxGasPrice);
    }

    function _setItemGasLimit(uint256 newItemGasLimit) internal {
        if (newItemGasLimit < MIN_ITEM_GAS || newItemGasLimit > MAX_ITEM_GAS) {
            revert VoteRelayInvalidItemGasLimit(newItemGasLimit);
        }
        uint256 old = _itemGasLimit;
        _itemGasLimit = newItemGasLimit;
        emit ItemGasLimitChanged(old, newItemGasLimit);
    }
}
