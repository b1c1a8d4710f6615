// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MintableMock} from "./MintableMock.sol";

/// @notice A second 6-decimal stablecoin anyone can mint, so the demo's USDC payments travel as
/// USDC (the model knows the token); for tests and the demo only.
contract MockUSDC is MintableMock {
    constructor() MintableMock("Mock USD Coin", "USDC", 6) {}
}
