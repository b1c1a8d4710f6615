// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MintableMock} from "./MintableMock.sol";

/// @notice A 6-decimal stablecoin anyone can mint; for tests and the demo only.
contract MockStablecoin is MintableMock {
    constructor() MintableMock("Mock USD", "mUSD", 6) {}
}
