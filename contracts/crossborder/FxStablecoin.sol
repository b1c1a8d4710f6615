// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MintableMock} from "../test/MintableMock.sol";

/// @notice A mock stablecoin of any currency (EUR, GBP...), anyone may mint; the same base as the
/// project's MockStablecoin (USD). For local chains, tests and the demo only.
contract FxStablecoin is MintableMock {
    constructor(string memory name_, string memory symbol_, uint8 decimals_) MintableMock(name_, symbol_, decimals_) {}
}
