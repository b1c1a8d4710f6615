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
/// there is no minting authority afterwards. Balances carry no votes until delegated (self-delegation
/// included).
contract CommunityToken is ERC20, ERC20Permit, ERC20Votes {
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

    function _update(address from, address to, uint256 value) internal virtual override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view virtual override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
