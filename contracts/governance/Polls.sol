// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title Polls
/// @notice Non-binding multi-choice polls for community feedback. Each vote weighs the voter's voting
/// power (delegated votes of the community token) at the poll's snapshot, the timepoint just before the
/// poll was created: tokens bought or delegated afterwards carry no weight. Nothing executes.
contract Polls {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    struct Poll {
        address creator;
        uint48 snapshot;
        uint48 deadline;
        uint8 optionCount;
    }

    /*//////////////////////////////////////////////////////////////
                             EVENTS / ERRORS
    //////////////////////////////////////////////////////////////*/

    event PollCreated(
        uint256 indexed pollId, address indexed creator, string question, string[] options, uint48 snapshot, uint48 deadline
    );
    event PollVoted(uint256 indexed pollId, address indexed voter, uint8 option, uint256 weight);

    error PollsInvalidOptions(uint256 count);
    error PollsInvalidDuration(uint256 duration);
    error PollsNoVotingPower(address account);
    error PollsUnknownPoll(uint256 pollId);
    error PollsClosed(uint256 pollId);
    error PollsAlreadyVoted(uint256 pollId, address voter);
    error PollsInvalidOption(uint256 pollId, uint8 option);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    uint256 public constant MAX_OPTIONS = 16;
    uint256 public constant MAX_DURATION = 90 days;

    IERC5805 private immutable _token;

    Poll[] private _polls;
    mapping(uint256 pollId => mapping(uint8 option => uint256)) private _tally;
    mapping(uint256 pollId => mapping(address voter => bool)) private _voted;

    constructor(IERC5805 token_) {
        _token = token_;
    }

    /*//////////////////////////////////////////////////////////////
                                 POLLS
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a poll on `question` with `options`, open for `duration` seconds. Returns its id.
    ///
    /// Requirements:
    /// - 2 to MAX_OPTIONS options; 0 < `duration` <= MAX_DURATION;
    /// - the sender had voting power at the previous second (anti-spam).
    ///
    /// Emits {PollCreated}.
    function createPoll(string calldata question, string[] calldata options, uint48 duration)
        external
        returns (uint256 pollId)
    {
        if (options.length < 2 || options.length > MAX_OPTIONS) revert PollsInvalidOptions(options.length);
        if (duration == 0 || duration > MAX_DURATION) revert PollsInvalidDuration(duration);
        uint48 now_ = _token.clock();
        uint48 snapshot = now_ - 1;
        if (_token.getPastVotes(msg.sender, snapshot) == 0) revert PollsNoVotingPower(msg.sender);

        pollId = _polls.length;
        uint48 deadline = now_ + duration;
        _polls.push(Poll(msg.sender, snapshot, deadline, uint8(options.length)));
        emit PollCreated(pollId, msg.sender, question, options, snapshot, deadline);
    }

    /// @notice Votes for `option` of poll `pollId` with the sender's voting power at its snapshot.
    ///
    /// Requirements:
    /// - the poll exists and its deadline has not passed; `option` is one of its options;
    /// - the sender has not voted in it and had voting power at the snapshot.
    ///
    /// Emits {PollVoted}.
    function vote(uint256 pollId, uint8 option) external {
        Poll memory poll = _poll(pollId);
        if (_token.clock() > poll.deadline) revert PollsClosed(pollId);
        if (option >= poll.optionCount) revert PollsInvalidOption(pollId, option);
        if (_voted[pollId][msg.sender]) revert PollsAlreadyVoted(pollId, msg.sender);
        uint256 weight = _token.getPastVotes(msg.sender, poll.snapshot);
        if (weight == 0) revert PollsNoVotingPower(msg.sender);

        _voted[pollId][msg.sender] = true;
        _tally[pollId][option] += weight;
        emit PollVoted(pollId, msg.sender, option, weight);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The poll `pollId`. Requirements: it exists.
    function poll(uint256 pollId) external view returns (Poll memory) {
        return _poll(pollId);
    }

    /// @notice The weight behind each option of poll `pollId`. Requirements: it exists.
    function results(uint256 pollId) external view returns (uint256[] memory tally) {
        Poll memory poll_ = _poll(pollId);
        tally = new uint256[](poll_.optionCount);
        for (uint8 i = 0; i < poll_.optionCount; ++i) {
            tally[i] = _tally[pollId][i];
        }
    }

    function hasVoted(uint256 pollId, address voter) external view returns (bool) {
        return _voted[pollId][voter];
    }

    function pollCount() external view returns (uint256) {
        return _polls.length;
    }

    function token() external view returns (IERC5805) {
        return _token;
    }

    function _poll(uint256 pollId) private view returns (Poll memory) {
        if (pollId >= _polls.length) revert PollsUnknownPoll(pollId);
        return _polls[pollId];
    }
}
