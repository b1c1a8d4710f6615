// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title CommunityToken
/// @notice The Verdict community's governance token: a fixed-supply ERC-20 with EIP-2612 permits and
/// ERC-5805 voting checkpoints (delegation, also by signature through `delegateBySig`).
///
/// The clock is the block timestamp (ERC-6372 `mode=timestamp`), the same unit as the
/// TimelockController's delay, so every governance duration (voting delay, voting period, late-quorum
/// extension, timelock delay, poll duration, vesting) is expressed in seconds. The governor, the
/// membership registry and the polls read this clock.
///
/// The whole supply is minted once, to `initialHolder`, which distributes it (see docs/tokenomics.md);
/// there is no minting authority afterwards.
///
/// **Votes without a delegate step**: an account without code (an EOA) that receives tokens while it has
/// no delegate and never declined one delegates to itself, in the same transfer, so a member's votes
/// equal their balance without a `delegate` transaction. A holder who chose a delegate keeps it; one who
/// delegated to address(0) on purpose ({declinedAutoDelegation}) is never re-delegated. Contracts
/// (the timelock's treasury, Membership's referral budget, VestingGrant's unvested tokens, escrows)
/// never self-delegate: their tokens carry no votes unless the contract delegates explicitly.
contract CommunityToken is ERC20, ERC20Permit, ERC20Votes {
    mapping(address account => bool) private _declinedAutoDelegation;

    /// @param name_ token name, also the EIP-712 domain name of permits and delegations
    /// @param symbol_ token symbol
    /// @param initialHolder receives the whole `supply`
    /// @param supply the fixed total supply (18 decimals)
    constructor(string memory name_, string memory symbol_, address initialHolder, uint256 supply)
        ERC20(name_, symbol_)
        ERC20Permit(name_)
    {
        _mint(initialHolder, supply);
    }

    /// @notice The current timepoint of the voting clock: the block timestamp.
    function clock() public view virtual override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 description of the clock.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public view virtual override returns (string memory) {
        return "mode=timestamp";
    }

    /// @notice Whether `account` delegated to address(0) at some point, which turns off self-delegation on
    /// receipt for it (it may still delegate to anyone, itself included, at any time).
    function declinedAutoDelegation(address account) public view virtual returns (bool) {
        return _declinedAutoDelegation[account];
    }

    /// @dev Moves balances and votes, then self-delegates a code-less recipient that has no delegate and
    /// never declined one ({_autoDelegates}). Later receipts cost one warm storage read more.
    function _update(address from, address to, uint256 value) internal virtual override(ERC20, ERC20Votes) {
        super._update(from, to, value);
        if (_autoDelegates(to)) _delegate(to, to);
    }

    /// @dev Whether a receipt by `to` delegates its balance to itself: not a burn, no delegate yet (read
    /// first: warm after the vote transfer, and false for every later receipt), no code (contracts never
    /// vote unless they delegate explicitly), and never declined.
    function _autoDelegates(address to) internal view virtual returns (bool) {
        return to != address(0) && delegates(to) == address(0) && to.code.length == 0
            && !_declinedAutoDelegation[to];
    }

    /// @dev Records a delegation to address(0) as declining auto-delegation.
    function _delegate(address account, address delegatee) internal virtual override {
        if (delegatee == address(0) && !_declinedAutoDelegation[account]) _declinedAutoDelegation[account] = true;
        super._delegate(account, delegatee);
    }

    function nonces(address owner) public view virtual override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
