// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";

/// @notice Test-only flash-loan vote attack on the governor: lends a pool of the vote token for one call,
/// during which the borrower delegates the tokens to itself and votes (or tries to propose), then repays.
contract GovernedFlashAttackMock {
    IERC20 public immutable token;
    uint256 public lastWeight;

    constructor(IERC20 token_) {
        token = token_;
    }

    /// @notice Flash-borrows `amount` from `lender` (who approved this contract), delegates it to itself,
    /// votes For on `proposalId` and repays, all in one transaction.
    function attackVote(IGovernor governor, uint256 proposalId, address lender, uint256 amount) external {
        token.transferFrom(lender, address(this), amount);
        IVotes(address(token)).delegate(address(this));
        lastWeight = governor.castVote(proposalId, 1);
        token.transfer(lender, amount);
    }

    /// @notice Flash-borrows `amount`, delegates and tries to propose in the same transaction.
    function attackPropose(IGovernor governor, address lender, uint256 amount, address target, bytes calldata data)
        external
        returns (uint256)
    {
        token.transferFrom(lender, address(this), amount);
        IVotes(address(token)).delegate(address(this));
        address[] memory targets = new address[](1);
        targets[0] = target;
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        calldatas[0] = data;
        uint256 proposalId = governor.propose(targets, values, calldatas, "flash proposal");
        token.transfer(lender, amount);
        return proposalId;
    }
}
