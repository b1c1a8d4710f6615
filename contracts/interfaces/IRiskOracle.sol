// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRiskGated} from "./IRiskGated.sol";

/// @title IRiskOracle
/// @notice Collects risk verdicts from a registered set of oracle nodes and applies a final score
/// (the median of a quorum of k distinct nodes; the higher middle score for even k) to a gated target.
interface IRiskOracle {
    /// @notice One node's verdict on one gated item (of its {VerdictBatch}'s target and model).
    /// @param id the payment (or release) id, local to the batch's target
    /// @param score risk score in basis points, 0 (safe) to 10000 (certain fraud)
    /// @param reasonsHash keccak256 of the canonical JSON of the top reasons, for audit
    /// @param terms the item's terms as its request log gave them; the target applies the verdict
    ///        only if they are the item's (issue 16.4: a PaymentRouter stores only their hash)
    struct Verdict {
        uint256 id;
        uint16 score;
        bytes32 reasonsHash;
        IRiskGated.Terms terms;
    }

    /// @notice Verdicts on items of one target scored by one model: the target and the model id
    /// are said once, not per verdict (issue 16.4: 880 gas of calldata a verdict).
    /// @param target the gated contract (PaymentRouter or Escrow) that owns every id
    /// @param modelId SHA-256 id of the model that produced the scores; must be approved
    struct VerdictBatch {
        address target;
        bytes32 modelId;
        Verdict[] verdicts;
    }

    /// @notice A batch of verdicts agreed by a network of nodes (issue 17), the part every signer
    /// shares. Each signer signs it together with its own scores (an {Observation}).
    /// @param configDigest {configDigest} when the nodes built the report: binds it to this chain,
    ///        this oracle and the node set and threshold of the moment
    /// @param target the gated contract (PaymentRouter or Escrow) that owns every id
    /// @param modelId the approved model every signer scored with
    /// @param round the nodes' round number (the last block of the batch); reports of different
    ///        rounds over the same items differ, a report is accepted once
    /// @param ids the items, in any order
    /// @param contentHashes per item, keccak256(abi.encode(payer, payee, token, amount)) as the
    ///        item's request log gave them; an item whose stored terms differ is skipped
    struct Report {
        bytes32 configDigest;
        address target;
        bytes32 modelId;
        uint64 round;
        uint256[] ids;
        bytes32[] contentHashes;
    }

    /// @notice One signer's scores for a {Report}, with its EIP-712 signature over
    /// `Observation(bytes32 configDigest,address target,bytes32 modelId,uint64 round,uint256[] ids,
    /// bytes32[] contentHashes,uint16[] scores,bytes32[] reasonsHashes)`.
    struct Observation {
        uint16[] scores;
        bytes32[] reasonsHashes;
        bytes signature;
    }

    /// @notice Why an item of a batch was skipped without side effects (`VerdictSkipped.reason`, as
    /// an ABI client sees it): 0 UnknownItem (no such id at the target), 1 AlreadyFinal, 2 Expired
    /// (past its verdict deadline), 3 DuplicateVote (this node already voted on it), 4
    /// ContentMismatch (the terms a verdict or report carries, or a report's content hash, differ from the
    /// item's).
    enum SkipReason {
        UnknownItem,
        AlreadyFinal,
        Expired,
        DuplicateVote,
        ContentMismatch
    }

    event VerdictPosted(
        address indexed target,
        uint256 indexed id,
        address indexed node,
        uint16 score,
        bytes32 modelId,
        bytes32 reasonsHash
    );
    event VerdictSkipped(address indexed target, uint256 indexed id, address indexed node, SkipReason reason);
    /// @notice A final score was applied to (`target`, `id`) by a quorum above 1 (`votes` counted)
    /// or by a signed report (`votes` = its signatures). Under quorum 1 the node's `VerdictPosted`
    /// is itself the final verdict and no `VerdictFinalized` follows it (issue 16.4: it repeated
    /// the same target, id and score for about 2,000 gas a verdict).
    event VerdictFinalized(address indexed target, uint256 indexed id, uint16 score, uint8 votes);
    event NodeAdded(address indexed node);
    event NodeRemoved(address indexed node);
    event QuorumChanged(uint8 oldQuorum, uint8 newQuorum);
    event ModelApproved(bytes32 indexed modelId);
    event ModelRevoked(bytes32 indexed modelId);
    event TargetAdded(address indexed target);
    event TargetRemoved(address indexed target);
    /// @notice The node set or the threshold changed: reports signed under an older digest revert.
    event ConfigChanged(uint64 version, bytes32 configDigest);
    /// @notice A signed report was accepted; its items follow as `VerdictFinalized` or `VerdictSkipped`.
    event ReportTransmitted(
        bytes32 indexed reportHash, address indexed target, address indexed transmitter, uint64 round, address[] signers
    );

    error RiskOracleUnauthorizedNode(address sender);
    error RiskOracleModelNotApproved(bytes32 modelId);
    error RiskOracleScoreOutOfRange(uint256 id, uint16 score);
    error RiskOracleUnknownTarget(address target);
    error RiskOracleInvalidQuorum(uint256 quorum, uint256 nodes);
    error RiskOracleNodeExists(address node);
    error RiskOracleNodeMissing(address node);
    error RiskOracleEmptyBatch();
    // added with the implementation
    error RiskOracleZeroAddress();
    error RiskOracleTooManyNodes(uint256 max);
    /// @notice `node` was registered once and removed; its old votes are kept, so it cannot return.
    error RiskOracleNodeRetired(address node);
    /// @notice The report was built for another config (an older node set or threshold, another
    /// oracle or chain).
    error RiskOracleConfigDigestMismatch(bytes32 reported, bytes32 current);
    /// @notice This exact report (same digest, target, model, round and items) was accepted before.
    error RiskOracleReportReplayed(bytes32 reportHash);
    error RiskOracleTooFewSignatures(uint256 signatures, uint256 threshold);
    /// @notice A signature did not recover to a registered node.
    error RiskOracleUnauthorizedSigner(address signer);
    /// @notice Signers must come in strictly ascending address order (which makes them distinct).
    error RiskOracleSignersNotAscending(address signer);
    /// @notice The report's arrays disagree in length.
    error RiskOracleReportMalformed();

    /// @notice Posts many verdicts in one transaction, grouped by target and model.
    ///
    /// Requirements:
    /// - the sender is a registered node;
    /// - at least one group and no empty group; every group's model id is approved and its target
    ///   registered; every score at most 10000.
    /// Items that are unknown, already final, expired, a repeat vote by this node, or whose terms
    /// the target refuses (ContentMismatch) are skipped with `VerdictSkipped`, so a retried batch is
    /// harmless and wrong terms never pay.
    function submitVerdicts(VerdictBatch[] calldata batches) external;

    /// @notice Applies a report signed by at least {quorum} distinct registered nodes: each item's
    /// final score is the middle of the signers' scores (the higher middle for an even count), so
    /// with at most f faulty signers among 2f+1 or more, it lies within the honest signers' range.
    ///
    /// Requirements:
    /// - the sender is a registered node (the round's transmitter);
    /// - `report.configDigest` is the current {configDigest}; the report was not accepted before;
    /// - the model is approved, the target registered, at least one item, every array of length
    ///   `report.ids.length`, every score at most 10000;
    /// - at least {quorum} observations, signed by registered nodes in strictly ascending order.
    /// - one entry of `terms` per item: the item's terms, which the report's content hash binds
    ///   (keccak256(abi.encode(terms[i])) == report.contentHashes[i]).
    /// Items that are unknown, already final, expired, whose `terms` differ from
    /// `report.contentHashes` or whose stored terms differ from either are skipped with
    /// `VerdictSkipped` (node = the transmitter).
    function transmit(Report calldata report, Observation[] calldata observations, IRiskGated.Terms[] calldata terms)
        external;

    /// @notice keccak256(abi.encode(chainid, this oracle, {configVersion})): what a report must carry.
    function configDigest() external view returns (bytes32);
    /// @notice Bumped by every node-set or quorum change.
    function configVersion() external view returns (uint64);
    /// @notice Whether a report with this hash (see {reportHash}) was accepted.
    function isReportTransmitted(bytes32 hash) external view returns (bool);
    /// @notice The hash {transmit} records to refuse a replay: over the digest, target, model,
    /// round, ids and content hashes (not the scores or signatures).
    function reportHash(Report calldata report) external pure returns (bytes32);

    // --- administration: DEFAULT_ADMIN_ROLE (the DAO timelock once governance takes over) -----
    /// @notice Requirements: admin; `node` non-zero, not registered and never removed before.
    function addNode(address node) external;
    /// @notice Removes `node` for good (it cannot be added again: its stored votes are not cleared).
    /// Requirements: admin; `node` registered; quorum stays <= node count.
    function removeNode(address node) external;
    /// @notice Requirements: admin; 1 <= `newQuorum` <= node count.
    function setQuorum(uint8 newQuorum) external;
    /// @notice Requirements: admin.
    function approveModel(bytes32 modelId) external;
    /// @notice Requirements: admin.
    function revokeModel(bytes32 modelId) external;
    /// @notice Registers a gated contract (PaymentRouter, Escrow). Requirements: admin.
    function addTarget(address target) external;
    /// @notice Requirements: admin.
    function removeTarget(address target) external;

    function isNode(address account) external view returns (bool);
    /// @notice Every registered oracle node, in no set order.
    function nodes() external view returns (address[] memory);
    function quorum() external view returns (uint8);
    function isModelApproved(bytes32 modelId) external view returns (bool);
    /// @notice Every approved model id, in no set order (revoked ones are gone).
    function approvedModels() external view returns (bytes32[] memory);
    /// @notice Every holder of DEFAULT_ADMIN_ROLE (the DAO timelock once governance took over);
    /// any role's holders: `getRoleMembers(role)`.
    function admins() external view returns (address[] memory);
    function isTarget(address target) external view returns (bool);
    /// @notice Whether a final verdict was reached for (`target`, `id`), and its score.
    function finalScore(address target, uint256 id) external view returns (bool isFinal, uint16 score);
    /// @notice How many distinct nodes have voted on (`target`, `id`) so far.
    function voteCount(address target, uint256 id) external view returns (uint8);
    function hasVoted(address target, uint256 id, address node) external view returns (bool);
}
