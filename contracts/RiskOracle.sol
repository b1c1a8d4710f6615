// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControlEnumerable} from "@openzeppelin/contracts/access/extensions/AccessControlEnumerable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IEscrow} from "./interfaces/IEscrow.sol";
import {IPaymentRouter} from "./interfaces/IPaymentRouter.sol";
import {IRiskGated} from "./interfaces/IRiskGated.sol";
import {IRiskOracle} from "./interfaces/IRiskOracle.sol";

/// @title RiskOracle
/// @notice Collects risk verdicts from registered oracle nodes and applies the final score to a
/// gated target (PaymentRouter, Escrow) once a quorum of k distinct nodes has voted. The final
/// score is the median of the counted votes; for an even count, the higher of the two middle
/// scores (fail safe: with quorum 2, one node scoring 0 cannot settle what the other rejects; it
/// can at most hold or refund what the other would settle).
///
/// Quorum 1 takes a fast path: no per-node vote is stored; the verdict goes straight to the
/// target, whose returned prior status tells a posted verdict from a skipped one (the target's own
/// status prevents a double application); its `VerdictPosted` is the final verdict (no
/// `VerdictFinalized` follows). Each verdict carries its item's terms, which the target checks
/// (a PaymentRouter keeps only their hash).
///
/// Quorum above 1: each node's vote is stored (score + 1 in a uint16). When the running count
/// reaches k, the votes are recounted over the *current* node set, so the votes of a removed node
/// no longer count; if fewer than k remain, the item waits for more votes.
///
/// Final scores and running vote counts share a packed map of 16-bit lanes, 16 ids per slot, so a
/// batch of consecutive ids writes mostly warm slots.
///
/// Signed reports (issue 17): a network of nodes agrees off-chain on a batch, each node signs its
/// own scores for it (EIP-712), and one transmitter posts the report with at least `quorum`
/// signatures in one transaction ({transmit}). No per-node vote is stored: the signatures are the
/// votes. A report is bound to a config digest (chain id, this contract, a version bumped by every
/// node-set or quorum change) and accepted once; each item's terms are checked against the target.
contract RiskOracle is IRiskOracle, AccessControlEnumerable, ReentrancyGuardTransient, EIP712 {
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The highest score: certain fraud, in basis points.
    uint16 public constant MAX_SCORE = 10_000;
    /// @notice The node set is iterated when a quorum is reached: keep it bounded.
    uint256 public constant MAX_NODES = 64;

    /// @dev A lane holding `_FINAL | score` is final; any smaller non-zero value is a vote count.
    uint16 private constant _FINAL = 0x8000;
    uint16 private constant _SCORE_MASK = 0x7fff;

    /// @notice The EIP-712 type a node signs for its scores of one report.
    bytes32 public constant OBSERVATION_TYPEHASH = keccak256(
        "Observation(bytes32 configDigest,address target,bytes32 modelId,uint64 round,uint256[] ids,"
        "bytes32[] contentHashes,uint16[] scores,bytes32[] reasonsHashes)"
    );

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    EnumerableSet.AddressSet private _nodes;
    uint8 private _quorum;
    /// @dev Shares the quorum's slot; part of {configDigest}.
    uint64 private _configVersion;
    /// @dev {reportHash} of every accepted report.
    mapping(bytes32 reportHash => bool) private _transmitted;
    /// @dev Enumerable so that {approvedModels} can list them; membership costs one read, as a map.
    EnumerableSet.Bytes32Set private _approvedModels;
    mapping(address target => bool) private _targets;
    /// @dev 16 lanes of 16 bits per slot, slot `id >> 4`, lane `id & 15`.
    mapping(address target => mapping(uint256 bucket => uint256)) private _lanes;
    /// @dev score + 1 of a node's vote (0 = no vote); written only when the quorum is above 1.
    mapping(address target => mapping(uint256 id => mapping(address node => uint16))) private _votes;
    /// @dev Addresses once registered and then removed. Their stored votes are never cleared (that
    /// would cost a write per vote), so such an address may not come back: re-added, its old votes
    /// on undecided items would count again.
    mapping(address node => bool) private _retired;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin holder of DEFAULT_ADMIN_ROLE (later the DAO timelock). The quorum starts at 1.
    constructor(address admin) EIP712("Verdict RiskOracle", "1") {
        if (admin == address(0)) revert RiskOracleZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _quorum = 1;
        emit QuorumChanged(0, 1);
    }

    /*//////////////////////////////////////////////////////////////
                               VERDICTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskOracle
    // Each item's effects precede its call to the target; across the loop, item i+1 writes after
    // item i's call. `nonReentrant`, and targets are governance-registered contracts of ours.
    // slither-disable-next-line reentrancy-no-eth
    function submitVerdicts(VerdictBatch[] calldata batches) external nonReentrant {
        if (!_nodes.contains(msg.sender)) revert RiskOracleUnauthorizedNode(msg.sender);
        uint256 groups = batches.length;
        if (groups == 0) revert RiskOracleEmptyBatch();
        uint8 k = _quorum;
        for (uint256 g = 0; g < groups; ++g) {
            VerdictBatch calldata b = batches[g];
            uint256 n = b.verdicts.length;
            if (n == 0) revert RiskOracleEmptyBatch();
            if (!_approvedModels.contains(b.modelId)) revert RiskOracleModelNotApproved(b.modelId);
            if (!_targets[b.target]) revert RiskOracleUnknownTarget(b.target);
            for (uint256 i = 0; i < n; ++i) {
                Verdict calldata v = b.verdicts[i];
                if (v.score > MAX_SCORE) revert RiskOracleScoreOutOfRange(v.id, v.score);
                if (k == 1) {
                    _submitSole(b, v);
                } else {
                    _submitToQuorum(b, v, k);
                }
            }
        }
    }

    /// @inheritdoc IRiskOracle
    // Effects (the report marked accepted) precede the calls; each item's lane is written before
    // its target call and restored only on a disagreeing answer. `nonReentrant`, registered targets.
    // slither-disable-next-line reentrancy-no-eth
    function transmit(Report calldata report, Observation[] calldata observations, IRiskGated.Terms[] calldata terms)
        external
        nonReentrant
    {
        if (!_nodes.contains(msg.sender)) revert RiskOracleUnauthorizedNode(msg.sender);
        uint256 n = report.ids.length;
        if (n == 0) revert RiskOracleEmptyBatch();
        if (report.contentHashes.length != n || terms.length != n) revert RiskOracleReportMalformed();
        bytes32 current = configDigest();
        if (report.configDigest != current) revert RiskOracleConfigDigestMismatch(report.configDigest, current);
        if (!_approvedModels.contains(report.modelId)) revert RiskOracleModelNotApproved(report.modelId);
        if (!_targets[report.target]) revert RiskOracleUnknownTarget(report.target);
        uint256 signed = observations.length;
        if (signed < _quorum) revert RiskOracleTooFewSignatures(signed, _quorum);

        bytes32 idsHash = keccak256(abi.encodePacked(report.ids));
        bytes32 contentsHash = keccak256(abi.encodePacked(report.contentHashes));
        bytes32 accepted = _reportHash(report, idsHash, contentsHash);
        if (_transmitted[accepted]) revert RiskOracleReportReplayed(accepted);
        address[] memory signers = _recoverSigners(report, observations, idsHash, contentsHash);
        _transmitted[accepted] = true;
        emit ReportTransmitted(accepted, report.target, msg.sender, report.round, signers);

        uint16[] memory scores = new uint16[](signed);
        for (uint256 i = 0; i < n; ++i) {
            uint16 score = _middleScore(observations, i, scores);
            _applyReported(report, i, terms[i], score, uint8(signed));
        }
    }

    /*//////////////////////////////////////////////////////////////
                             ADMINISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskOracle
    /// @dev Also requires fewer than MAX_NODES nodes (`RiskOracleTooManyNodes`).
    function addNode(address node) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (node == address(0)) revert RiskOracleZeroAddress();
        if (_retired[node]) revert RiskOracleNodeRetired(node);
        if (_nodes.length() >= MAX_NODES) revert RiskOracleTooManyNodes(MAX_NODES);
        if (!_nodes.add(node)) revert RiskOracleNodeExists(node);
        emit NodeAdded(node);
        _bumpConfig();
    }

    /// @inheritdoc IRiskOracle
    /// @dev The removed node's votes on undecided items stop counting at once, for good: the
    /// address is retired and {addNode} refuses it (an operator rejoins with a fresh key).
    function removeNode(address node) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 remaining = _nodes.length() - (_nodes.contains(node) ? 1 : 0);
        if (!_nodes.remove(node)) revert RiskOracleNodeMissing(node);
        if (_quorum > remaining) revert RiskOracleInvalidQuorum(_quorum, remaining);
        _retired[node] = true;
        emit NodeRemoved(node);
        _bumpConfig();
    }

    /// @inheritdoc IRiskOracle
    /// @dev Items with votes pending are judged by the new quorum when their next vote arrives.
    function setQuorum(uint8 newQuorum) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 count = _nodes.length();
        if (newQuorum == 0 || newQuorum > count) revert RiskOracleInvalidQuorum(newQuorum, count);
        uint8 oldQuorum = _quorum;
        _quorum = newQuorum;
        emit QuorumChanged(oldQuorum, newQuorum);
        _bumpConfig();
    }

    /// @inheritdoc IRiskOracle
    function approveModel(bytes32 modelId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_approvedModels.add(modelId)) emit ModelApproved(modelId);
    }

    /// @inheritdoc IRiskOracle
    function revokeModel(bytes32 modelId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_approvedModels.remove(modelId)) emit ModelRevoked(modelId);
    }

    /// @inheritdoc IRiskOracle
    /// @dev Also requires a non-zero `target` (`RiskOracleZeroAddress`).
    function addTarget(address target) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (target == address(0)) revert RiskOracleZeroAddress();
        if (!_targets[target]) {
            _targets[target] = true;
            emit TargetAdded(target);
        }
    }

    /// @inheritdoc IRiskOracle
    function removeTarget(address target) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_targets[target]) {
            _targets[target] = false;
            emit TargetRemoved(target);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IRiskOracle
    function configDigest() public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), _configVersion));
    }

    /// @inheritdoc IRiskOracle
    function configVersion() external view returns (uint64) {
        return _configVersion;
    }

    /// @inheritdoc IRiskOracle
    function isReportTransmitted(bytes32 hash) external view returns (bool) {
        return _transmitted[hash];
    }

    /// @inheritdoc IRiskOracle
    function reportHash(Report calldata report) external pure returns (bytes32) {
        return _reportHash(
            report, keccak256(abi.encodePacked(report.ids)), keccak256(abi.encodePacked(report.contentHashes))
        );
    }

    /// @inheritdoc IRiskOracle
    function isNode(address account) external view returns (bool) {
        return _nodes.contains(account);
    }

    /// @inheritdoc IRiskOracle
    function nodes() external view returns (address[] memory) {
        return _nodes.values();
    }

    /// @inheritdoc IRiskOracle
    function quorum() external view returns (uint8) {
        return _quorum;
    }

    /// @inheritdoc IRiskOracle
    function isModelApproved(bytes32 modelId) external view returns (bool) {
        return _approvedModels.contains(modelId);
    }

    /// @inheritdoc IRiskOracle
    function approvedModels() external view returns (bytes32[] memory) {
        return _approvedModels.values();
    }

    /// @inheritdoc IRiskOracle
    function admins() external view returns (address[] memory) {
        return getRoleMembers(DEFAULT_ADMIN_ROLE);
    }

    /// @inheritdoc IRiskOracle
    function isTarget(address target) external view returns (bool) {
        return _targets[target];
    }

    /// @inheritdoc IRiskOracle
    function finalScore(address target, uint256 id) external view returns (bool isFinal, uint16 score) {
        uint16 lane = _lane(target, id);
        isFinal = lane & _FINAL != 0;
        score = isFinal ? lane & _SCORE_MASK : 0;
    }

    /// @inheritdoc IRiskOracle
    /// @dev Counts the stored votes of currently registered nodes. A verdict finalized on the
    /// quorum-1 fast path stores no vote and counts as one.
    function voteCount(address target, uint256 id) external view returns (uint8) {
        (uint256 counted,) = _tally(target, id);
        if (counted == 0 && _lane(target, id) & _FINAL != 0) return 1;
        return uint8(counted); // <= MAX_NODES
    }

    /// @inheritdoc IRiskOracle
    /// @dev Reports stored votes only: the quorum-1 fast path stores none.
    function hasVoted(address target, uint256 id, address node) external view returns (bool) {
        return _votes[target][id][node] != 0;
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Quorum 1: record the verdict as final, then let the target apply it. The target's
    /// answer is the source of truth: if it had no awaiting item, the record is restored and the
    /// item skipped (the restore costs next to nothing: the slot goes back to its original value).
    // Only the fallback after a disagreeing answer writes after the call; nonReentrant caller.
    // slither-disable-next-line reentrancy-no-eth
    function _submitSole(VerdictBatch calldata b, Verdict calldata v) private {
        address target = b.target;
        uint256 previous = _setLane(target, v.id, _FINAL | v.score);
        IRiskGated.GateStatus prior = IRiskGated(target).applyVerdict(v.id, v.score, v.terms);
        if (prior != IRiskGated.GateStatus.Awaiting) {
            _restoreLanes(target, v.id, previous);
            emit VerdictSkipped(target, v.id, msg.sender, _skipReason(prior));
            return;
        }
        // the one vote of quorum 1 is final: `VerdictPosted` says so for it (a `VerdictFinalized`
        // repeating target, id and score cost about 2,000 gas a verdict, issue 16.4)
        emit VerdictPosted(target, v.id, msg.sender, v.score, b.modelId, v.reasonsHash);
    }

    /// @dev Quorum k > 1: record this node's vote; on the k-th counted vote finalize the median.
    function _submitToQuorum(VerdictBatch calldata b, Verdict calldata v, uint8 k) private {
        address target = b.target;
        IRiskGated.GateStatus status = IRiskGated(target).gateStatus(v.id);
        if (status != IRiskGated.GateStatus.Awaiting) {
            emit VerdictSkipped(target, v.id, msg.sender, _skipReason(status));
            return;
        }
        uint16 lane = _lane(target, v.id);
        if (lane & _FINAL != 0) {
            emit VerdictSkipped(target, v.id, msg.sender, SkipReason.AlreadyFinal);
            return;
        }
        if (_votes[target][v.id][msg.sender] != 0) {
            emit VerdictSkipped(target, v.id, msg.sender, SkipReason.DuplicateVote);
            return;
        }

        _votes[target][v.id][msg.sender] = v.score + 1;
        emit VerdictPosted(target, v.id, msg.sender, v.score, b.modelId, v.reasonsHash);

        uint256 count = uint256(lane) + 1;
        if (count >= k) {
            // the running count may include votes of removed nodes: recount the current set
            (uint256 counted, uint16 median) = _tally(target, v.id);
            if (counted >= k) {
                _finalizeQuorum(target, v, median, counted);
                return;
            }
            count = counted;
        }
        _setLane(target, v.id, uint16(count)); // count < k <= 255
    }

    /// @dev Records the median as final, then lets the target apply it. `gateStatus` said
    /// Awaiting in this same call, so the target applies it; should it answer otherwise, the
    /// record falls back to the vote count and the item is reported skipped, never finalized.
    // Only the fallback after a disagreeing answer writes after the call; nonReentrant caller.
    // slither-disable-next-line reentrancy-no-eth
    function _finalizeQuorum(address target, Verdict calldata v, uint16 median, uint256 counted) private {
        _setLane(target, v.id, _FINAL | median);
        IRiskGated.GateStatus prior = IRiskGated(target).applyVerdict(v.id, median, v.terms);
        if (prior != IRiskGated.GateStatus.Awaiting) {
            _setLane(target, v.id, uint16(counted));
            emit VerdictSkipped(target, v.id, msg.sender, _skipReason(prior));
            return;
        }
        emit VerdictFinalized(target, v.id, median, uint8(counted)); // counted <= MAX_NODES
    }

    /// @dev The number of stored votes on (`target`, `id`) by currently registered nodes, and
    /// their median, the higher middle for an even count (0 when there are none).
    function _tally(address target, uint256 id) private view returns (uint256 counted, uint16 median) {
        address[] memory members = _nodes.values();
        uint16[] memory scores = new uint16[](members.length);
        mapping(address node => uint16) storage votes = _votes[target][id];
        for (uint256 i = 0; i < members.length; ++i) {
            uint16 stored = votes[members[i]];
            if (stored == 0) continue;
            // insertion sort: at most MAX_NODES small integers
            uint16 score = stored - 1;
            uint256 j = counted;
            while (j > 0 && scores[j - 1] > score) {
                scores[j] = scores[j - 1];
                --j;
            }
            scores[j] = score;
            ++counted;
        }
        // counted / 2 is the middle of an odd count and the higher middle of an even one
        if (counted != 0) median = scores[counted / 2];
    }

    function _bumpConfig() private {
        uint64 version = _configVersion + 1;
        _configVersion = version;
        emit ConfigChanged(version, configDigest());
    }

    function _reportHash(Report calldata report, bytes32 idsHash, bytes32 contentsHash) private pure returns (bytes32) {
        return keccak256(abi.encode(report.configDigest, report.target, report.modelId, report.round, idsHash, contentsHash));
    }

    /// @dev The signer of each observation: registered, in strictly ascending order (so distinct).
    function _recoverSigners(
        Report calldata report,
        Observation[] calldata observations,
        bytes32 idsHash,
        bytes32 contentsHash
    ) private view returns (address[] memory signers) {
        uint256 n = report.ids.length;
        signers = new address[](observations.length);
        address previous = address(0);
        for (uint256 j = 0; j < observations.length; ++j) {
            Observation calldata o = observations[j];
            if (o.scores.length != n || o.reasonsHashes.length != n) revert RiskOracleReportMalformed();
            // abi.encodePacked pads array elements to 32 bytes: EIP-712's encoding of atomic arrays
            bytes32 structHash = keccak256(
                abi.encode(
                    OBSERVATION_TYPEHASH,
                    report.configDigest,
                    report.target,
                    report.modelId,
                    report.round,
                    idsHash,
                    contentsHash,
                    keccak256(abi.encodePacked(o.scores)),
                    keccak256(abi.encodePacked(o.reasonsHashes))
                )
            );
            address signer = ECDSA.recover(_hashTypedDataV4(structHash), o.signature);
            if (signer <= previous) revert RiskOracleSignersNotAscending(signer);
            if (!_nodes.contains(signer)) revert RiskOracleUnauthorizedSigner(signer);
            signers[j] = signer;
            previous = signer;
        }
    }

    /// @dev The signers' middle score for item `i` (the higher middle for an even count), sorted in
    /// `buffer` (one slot per signer, reused across items).
    function _middleScore(Observation[] calldata observations, uint256 i, uint16[] memory buffer)
        private
        pure
        returns (uint16)
    {
        uint256 count = observations.length;
        for (uint256 j = 0; j < count; ++j) {
            uint16 score = observations[j].scores[i];
            if (score > MAX_SCORE) revert RiskOracleScoreOutOfRange(i, score);
            uint256 k = j;
            while (k > 0 && buffer[k - 1] > score) {
                buffer[k] = buffer[k - 1];
                --k;
            }
            buffer[k] = score;
        }
        return buffer[count / 2];
    }

    /// @dev Finalizes one reported item unless it is final, unknown or its terms differ; the
    /// target's answer is the source of truth, as on the quorum-1 path.
    // Only the fallback after a disagreeing answer writes after the call; nonReentrant caller.
    // slither-disable-next-line reentrancy-no-eth
    function _applyReported(
        Report calldata report,
        uint256 i,
        IRiskGated.Terms calldata terms,
        uint16 score,
        uint8 votes
    ) private {
        address target = report.target;
        uint256 id = report.ids[i];
        bytes32 contentHash = report.contentHashes[i];
        if (_lane(target, id) & _FINAL != 0) {
            emit VerdictSkipped(target, id, msg.sender, SkipReason.AlreadyFinal);
            return;
        }
        // the transmitter's terms must be the ones the signers signed...
        if (keccak256(abi.encode(terms)) != contentHash) {
            emit VerdictSkipped(target, id, msg.sender, SkipReason.ContentMismatch);
            return;
        }
        // ...and the item's: an Escrow stores them in full (checked here), a PaymentRouter only
        // their hash (checked by its applyVerdict, which answers Mismatch); an id the target does
        // not know is answered Unknown by the target
        (bool escrow, bytes32 stored) = _escrowContentOf(target, id);
        if (escrow && stored != contentHash) {
            emit VerdictSkipped(target, id, msg.sender, SkipReason.ContentMismatch);
            return;
        }
        uint256 previous = _setLane(target, id, _FINAL | score);
        IRiskGated.GateStatus prior = IRiskGated(target).applyVerdict(id, score, terms);
        if (prior != IRiskGated.GateStatus.Awaiting) {
            _restoreLanes(target, id, previous);
            emit VerdictSkipped(target, id, msg.sender, _skipReason(prior));
            return;
        }
        emit VerdictFinalized(target, id, score, votes); // votes: the signatures, <= MAX_NODES
    }

    /// @dev For a gate `id` of an Escrow (`escrow`: its `gate(id)` answered), keccak256(abi.encode(
    /// buyer, supplier, token, milestone amount)) as it stores them. Any other target (a
    /// PaymentRouter, which keeps only a hash of the terms) and an unknown gate are left to the
    /// target's own answer.
    function _escrowContentOf(address target, uint256 id) private view returns (bool escrow, bytes32 content) {
        try IEscrow(target).gate(id) returns (uint256 agreementId, uint256 milestone) {
            IEscrow.Agreement memory a;
            IEscrow.Milestone[] memory ms;
            (a, ms) = IEscrow(target).agreementState(agreementId);
            return (true, keccak256(abi.encode(a.buyer, a.supplier, a.token, uint256(ms[milestone].amount))));
        } catch {}
        return (false, bytes32(0));
    }

    function _skipReason(IRiskGated.GateStatus status) private pure returns (SkipReason) {
        if (status == IRiskGated.GateStatus.Unknown) return SkipReason.UnknownItem;
        if (status == IRiskGated.GateStatus.Expired) return SkipReason.Expired;
        if (status == IRiskGated.GateStatus.Mismatch) return SkipReason.ContentMismatch;
        return SkipReason.AlreadyFinal;
    }

    function _lane(address target, uint256 id) private view returns (uint16) {
        return uint16(_lanes[target][id >> 4] >> ((id & 15) << 4));
    }

    /// @dev Sets the lane of `id` to `value`; returns the whole previous word of its bucket.
    function _setLane(address target, uint256 id, uint16 value) private returns (uint256 word) {
        uint256 shift = (id & 15) << 4;
        mapping(uint256 bucket => uint256) storage lanes = _lanes[target];
        word = lanes[id >> 4];
        lanes[id >> 4] = (word & ~(uint256(0xffff) << shift)) | (uint256(value) << shift);
    }

    /// @dev Puts back the bucket word of `id` that `_setLane` returned.
    function _restoreLanes(address target, uint256 id, uint256 word) private {
        _lanes[target][id >> 4] = word;
    }
}
