// SPDX-License-Identifier: MIT
pragma solidity ^0.8.0;

/// @notice Chainlink's price feed interface: the same ABI as the `AggregatorV3Interface` of the
/// npm package "chainlink/contracts" (MIT). Declared here rather than installed: every release
/// of that package drags in OpenZeppelin 4.x copies and, since 1.3, a GitHub-hosted dependency
/// that this project's installs may not fetch (docs/cross-border.md).
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 _roundId)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
