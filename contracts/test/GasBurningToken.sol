// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A hostile ERC-20 for tests only. `transferFrom` always behaves (so it can be paid in);
/// `transfer`, which is what a payout uses, follows `mode`:
/// - Normal: an ordinary transfer;
/// - BurnAllGas: loops until it runs out of gas, whatever it is given;
/// - BurnGas: burns about `param` gas, then transfers normally (a very expensive but honest token);
/// - ReturnBomb: transfers, then returns `param` bytes whose first word is 1 (true): a return-data
///   bomb that only a caller copying all of the return data would pay for;
/// - ReturnNothing: transfers and returns no data at all (like USDT).
contract GasBurningToken is ERC20 {
    enum Mode {
        Normal,
        BurnAllGas,
        BurnGas,
        ReturnBomb,
        ReturnNothing
    }

    Mode public mode;
    uint256 public param;

    constructor() ERC20("Gas Burning Token", "BURN") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setMode(Mode mode_, uint256 param_) external {
        mode = mode_;
        param = param_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        Mode m = mode;
        if (m == Mode.BurnAllGas) {
            while (gasleft() > 0) {}
        } else if (m == Mode.BurnGas) {
            uint256 stopAt = gasleft() - param;
            while (gasleft() > stopAt) {}
        }
        bool ok = super.transfer(to, value);
        if (m == Mode.ReturnBomb) {
            uint256 size = param;
            // reads memory past what Solidity allocated: deliberately not "memory-safe"
            assembly {
                mstore(0x00, 1)
                return(0x00, size)
            }
        }
        if (m == Mode.ReturnNothing) {
            assembly {
                return(0x00, 0x00)
            }
        }
        return ok;
    }
}
