// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IEscrow} from "../interfaces/IEscrow.sol";

/// @notice Reads an Escrow's books in one call, for the property test's conservation invariant;
/// test only. It sums straight from the escrow's own views.
contract EscrowLedgerProbe {
    struct Ledger {
        uint256 balance; // what the escrow holds of the token
        uint256 unreleased; // sum of milestone amounts in Funded..Disputed
        uint256 credited; // sum of credited[account][token] over `accounts`
        uint256 fees; // feesAccrued[token]
    }

    /// @return ledgers one per token
    /// @return amounts every milestone's amount, agreement by agreement, milestone by milestone
    function read(IEscrow escrow, address[] calldata tokens, address[] calldata accounts)
        external
        view
        returns (Ledger[] memory ledgers, uint256[] memory amounts)
    {
        ledgers = new Ledger[](tokens.length);
        for (uint256 t = 0; t < tokens.length; ++t) {
            address token = tokens[t];
            ledgers[t].balance =
                token == address(0) ? address(escrow).balance : IERC20(token).balanceOf(address(escrow));
            ledgers[t].fees = escrow.feesAccrued(token);
            for (uint256 a = 0; a < accounts.length; ++a) {
                ledgers[t].credited += escrow.credited(accounts[a], token);
            }
        }
        uint256 count = escrow.agreementCount();
        uint256 total;
        for (uint256 id = 1; id <= count; ++id) {
            (IEscrow.Agreement memory a,) = escrow.agreementState(id);
            total += a.milestoneCount;
        }
        amounts = new uint256[](total);
        uint256 k;
        for (uint256 id = 1; id <= count; ++id) {
            (IEscrow.Agreement memory agreement, IEscrow.Milestone[] memory milestones) = escrow.agreementState(id);
            for (uint256 m = 0; m < milestones.length; ++m) {
                amounts[k++] = milestones[m].amount;
                IEscrow.MilestoneStatus s = milestones[m].status;
                if (s >= IEscrow.MilestoneStatus.Funded && s <= IEscrow.MilestoneStatus.Disputed) {
                    for (uint256 t = 0; t < tokens.length; ++t) {
                        if (tokens[t] == agreement.token) ledgers[t].unreleased += milestones[m].amount;
                    }
                }
            }
        }
    }
}
