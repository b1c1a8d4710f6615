"""A thin client over the deployed contracts: read gate requests, post verdict batches.

web3.py directly rather than ape: the daemon is a long-running service that needs its own nonce
management, local signing and plain `eth_getLogs` reads, and nothing of ape's project machinery.
ABIs come from the compiled interfaces in ape's build manifest, so the daemon depends only on the
interfaces, not on the implementation contracts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import requests
from eth_abi.exceptions import DecodingError
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import BadResponseFormat, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.providers.rpc import HTTPProvider

from oracle.budget import XBORDER_ITEM_GAS, GasBudget
from oracle.config import Settings
from oracle.deployment import Deployment, load_abis, load_node_account
from oracle.errors import ChainError
from oracle.events import Checksums, EventDecoder, as_int, decode_call, raw_bytes
from oracle.gate import XBORDER, GateKey, key_of
from oracle.isolate import Probe, RevertDecoder
from oracle.rpc import RawRpc
from oracle.sender import EstimateRefused, SentTx, TxSender
from oracle.verdict_codec import NO_TERMS, BatchOutcome, Terms, VerdictCodec, VerdictItem
from oracle.verdict_codec import topic as event_topic

__all__ = [
    "ETH",
    "BatchOutcome",
    "ChainClient",
    "Deployment",
    "EventDecoder",
    "GateRequest",
    "RouterPayment",
    "SentTx",
    "Terms",
    "TokenInfo",
    "VerdictItem",
    "load_abis",
    "load_node_account",
]

ETH = "0x0000000000000000000000000000000000000000"
UNKNOWN_PAYMENT_SELECTOR = "0x" + Web3.keccak(text="PaymentRouterUnknownPayment(uint256)")[:4].hex()
"""How the router's `payment(id)` reverts for an id it does not know."""

# Which contract emits which gate request, and the interface that describes it.
GATED_SOURCES: dict[str, tuple[str, str, str]] = {
    # deployment name -> (key prefix, interface in the build manifest, request event)
    "PaymentRouter": ("router", "IPaymentRouter", "PaymentRequested"),
    "Escrow": ("escrow", "IEscrow", "ReleaseRequested"),
    "CrossBorderRouter": ("xborder", "ICrossBorderRouter", "CrossBorderRequested"),
}
GATE_STATUS = ("unknown", "awaiting", "expired", "decided", "mismatch")
NODE_WIDE_REVERTS = ("RiskOracleUnauthorizedNode", "RiskOracleEmptyBatch")
"""Reverts that say nothing about the items: every batch would fail the same way. These are a
ChainError (the daemon backs off and says why), never a reason to park an item."""
GAS_LIMIT_TTL = 30.0  # seconds the block gas limit is reused


@dataclass(frozen=True, slots=True)
class GateRequest:
    """One item waiting at the risk gate: a payment, or an escrow milestone release."""

    source: str  # "router", "escrow" or "xborder"
    target: str  # the gated contract's address
    item_id: int
    payer: str
    payee: str
    token: str  # token address, ETH = zero address
    amount: int  # base units
    deadline: int  # unix seconds
    block_number: int
    tx_hash: str
    token_out: str | None = None  # what the payee receives (`CrossBorderRequested.tokenOut`); None: `token`
    # The store's key ("router:17", `str(self.gate_key)`): worked out once, it is asked for several
    # times per payment on the hot path.
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", key_of(self.source, self.item_id))

    @property
    def terms(self) -> Terms:
        """The item's terms, which its verdict carries back (IRiskGated.Terms)."""
        return Terms(self.payer, self.payee, self.token, self.amount)

    @property
    def gate_key(self) -> GateKey:
        return GateKey(self.source, self.target, self.item_id)


@dataclass(frozen=True, slots=True)
class RouterPayment:
    """One payment: its status and deadline as the router stores them (`IPaymentRouter.payment(id)`),
    its parties and amount from its `PaymentRequested` log (the router keeps only their hash)."""

    id: int
    payer: str
    payee: str
    token: str  # token address, ETH = zero address
    amount: int  # base units
    deadline: int  # unix seconds
    status: int  # IPaymentRouter.Status: 0 none, 1 pending, 2 held, 3 settled, 4 refunded


@dataclass(frozen=True, slots=True)
class TokenInfo:
    symbol: str
    decimals: int


class ChainClient:
    """Reads gate requests and posts verdicts for one oracle node."""

    def __init__(
        self,
        rpc_url: str,
        deployment: Deployment,
        abis: dict[str, list[dict[str, Any]]],
        account: LocalAccount | None = None,
        timeout: float = 10.0,
    ) -> None:
        session = requests.Session()
        # Proxies from the environment are read once here: with `trust_env`, requests walks the
        # whole environment on every request (about 1 ms of CPU each), a large share of an idle
        # node polling every few ms.
        session.proxies = dict(requests.utils.get_environ_proxies(rpc_url))
        session.trust_env = False
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, session=session))
        # The hot reads (head, logs, receipts) skip web3 and requests (oracle.rpc); behind a proxy
        # from the environment they keep the web3 path, which honours it.
        self._raw = RawRpc(rpc_url, timeout) if not session.proxies and rpc_url.startswith("http") else None
        self.rpc_url = rpc_url
        self.deployment = deployment
        self.account = account
        self._chain_id: int | None = None
        self.sender: TxSender | None = None
        if account is not None:
            self.sender = TxSender(self.w3, account, self.chain_id, self.rpc, raw=self._raw)
        # Block number -> timestamp, from the `blockTimestamp` that anvil and recent geth put in each
        # log: saves one eth_getBlock per block holding a request (under automine, per payment).
        self._log_timestamps: dict[int, int] = {}
        self.oracle = self.w3.eth.contract(deployment.address("RiskOracle"), abi=abis["IRiskOracle"])
        self.router = self.w3.eth.contract(deployment.address("PaymentRouter"), abi=abis["IPaymentRouter"])
        self._erc20 = [
            {"name": n, "type": "function", "stateMutability": "view", "inputs": [], "outputs": [{"type": t}]}
            for n, t in (("symbol", "string"), ("decimals", "uint8"))
        ]
        # Sources of gate requests: address -> (prefix, contract, request event object).
        self._sources: dict[str, tuple[str, Any]] = {}
        self._topics: dict[bytes, tuple[str, EventDecoder]] = {}
        # One cache of checksummed addresses for every decoder and receipt of this client.
        self.checksums = Checksums()
        for name, (prefix, iface, event) in GATED_SOURCES.items():
            if name not in deployment.contracts or iface not in abis:
                continue
            contract = self.w3.eth.contract(deployment.contracts[name], abi=abis[iface])
            self._sources[contract.address] = (prefix, contract)
            abi = next(e for e in contract.abi if e.get("type") == "event" and e.get("name") == event)
            self._topics[self.topic(contract, event)] = (prefix, EventDecoder(abi, self.checksums))
        self._topic_filter = [[Web3.to_hex(t) for t in self._topics]]
        self._topics_by_hex = {Web3.to_hex(t): known for t, known in self._topics.items()}
        self._request_topic = self.topic(self.router, "PaymentRequested")
        self.codec = VerdictCodec(
            self.oracle, {a: (p, c) for a, (p, c) in self._sources.items()}, self.checksums
        )
        self._source_list = list(self._sources)
        self.revert_decoder = RevertDecoder(abis)  # names the custom errors of every deployed interface
        self._gas_limit: tuple[int, float] | None = None
        self._calls: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}  # see `_encoded_call`
        self._oracle_address = self.oracle.address

    @classmethod
    def from_settings(cls, settings: Settings, *, with_key: bool = True, verify: bool = True) -> ChainClient:
        """A client for `settings`; with `verify` the deployment record is checked against the chain
        first (`verify_deployment`), so an unreachable RPC is a ChainError here. The daemon passes
        False and verifies in its preflight, where an RPC that is not up yet is waited for."""
        account = load_node_account(settings) if with_key else None
        client = cls(
            settings.rpc_url,
            Deployment.load(settings.deployment),
            load_abis(settings.build_manifest),
            account,
        )
        if verify:
            client.verify_deployment()
        return client

    def verify_deployment(self) -> None:
        """Refuses (DeploymentRecordError) a record bound to another chain than this RPC's: another
        chain id, or another block at the record's block number (a restarted anvil)."""
        self.rpc(lambda: self.deployment.verify(self.w3, self.rpc_url))

    @staticmethod
    def topic(contract: Any, event: str) -> bytes:
        """topic0 of `event` as declared in `contract`'s ABI."""
        return event_topic(contract, event)

    # --- reads ---------------------------------------------------------------------------------
    @property
    def sources(self) -> dict[str, str]:
        """Key prefix -> gated contract address."""
        return {prefix: address for address, (prefix, _) in self._sources.items()}

    def block_number(self) -> int:
        # Raw JSON-RPC: web3's formatters and middleware cost more than the call, polled every few ms.
        head = self.request("eth_blockNumber", [])
        try:
            return as_int(head)
        except (TypeError, ValueError):
            raise ChainError(f"RPC {self.rpc_url} sent a malformed eth_blockNumber answer") from None

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.rpc(lambda: self.w3.eth.chain_id)
        return self._chain_id

    def block_timestamp(self, number: int) -> int:
        known = self._log_timestamps.get(number)
        return known if known is not None else self._block_timestamp(number)

    @lru_cache(maxsize=4096)  # noqa: B019 - one client per process; blocks never change once mined
    def _block_timestamp(self, number: int) -> int:
        return int(self.rpc(lambda: self.w3.eth.get_block(number)["timestamp"]))

    def gate_requests(self, from_block: int, to_block: int | str) -> list[GateRequest]:
        """Every payment and release request mined in [from_block, to_block] (a number or "latest"),
        in chain order."""
        if not self._sources:
            return []
        # Raw eth_getLogs and eth_abi decoding: web3's log formatting and `process_log` cost more
        # than the request itself once a turn holds a few hundred logs.
        logs = self.request(
            "eth_getLogs",
            [
                {
                    "fromBlock": hex(from_block),
                    "toBlock": to_block if isinstance(to_block, str) else hex(to_block),
                    "address": self._source_list,
                    "topics": self._topic_filter,
                }
            ],
        )
        out = []
        topics_by_hex = self._topics_by_hex
        remembered = None  # the last (block, timestamp) remembered: a block holds many requests
        try:
            for log in logs:
                stamp = (log.get("blockTimestamp"), log["blockNumber"])
                if stamp != remembered and stamp[0] is not None:
                    self._remember_timestamp(as_int(stamp[1]), as_int(stamp[0]))
                    remembered = stamp
                topics = log["topics"]
                known = topics_by_hex.get(topics[0]) if isinstance(topics[0], str) else None
                prefix, decoder = known or self._topics[raw_bytes(topics[0])]
                args = decoder.decode(log)
                item_id = args.get("id", args.get("gateId"))
                out.append(
                    GateRequest(
                        prefix,
                        self.checksums(log["address"]),
                        int(item_id),
                        args["payer"],
                        args["payee"],
                        # a cross-border payment is scored on what was paid (`tokenIn`, `amountIn`)
                        args["token"] if "token" in args else args["tokenIn"],
                        int(args["amount"] if "amount" in args else args["amountIn"]),
                        int(args["deadline"]),
                        as_int(stamp[1]),
                        str(log["transactionHash"]),
                        args.get("tokenOut"),
                    )
                )
        except (KeyError, TypeError, ValueError, IndexError, DecodingError) as exc:
            raise ChainError(f"RPC {self.rpc_url} sent malformed logs: {type(exc).__name__}") from None
        return out

    def _remember_timestamp(self, block: int, timestamp: int) -> None:
        """Block `block` was mined at `timestamp`, as a log said (an older node's logs do not say:
        `block_timestamp` asks for the block instead)."""
        if len(self._log_timestamps) >= 4096:
            self._log_timestamps.pop(next(iter(self._log_timestamps)))  # the oldest block
        self._log_timestamps[block] = timestamp

    def token_info(self, token: str) -> TokenInfo:
        return self._token_info(self.checksums(token))

    @lru_cache(maxsize=256)  # noqa: B019 - token metadata is immutable
    def _token_info(self, token: str) -> TokenInfo:
        if int(token, 16) == 0:
            return TokenInfo("ETH", 18)
        contract = self.w3.eth.contract(token, abi=self._erc20)
        try:
            return TokenInfo(contract.functions.symbol().call(), int(contract.functions.decimals().call()))
        except (ContractLogicError, ValueError, Web3RPCError):
            return TokenInfo(token[:10], 18)

    def thresholds(self) -> tuple[int, int]:
        # One raw batch (`call_many`): two web3 `.call()`s cost several ms of CPU, every few seconds.
        review, reject = self.call_many(
            [(self.router, "reviewThreshold", []), (self.router, "rejectThreshold", [])]
        )
        return int(review), int(reject)

    def is_model_approved(self, model_id: str) -> bool:
        raw = bytes.fromhex(model_id.removeprefix("0x"))
        return bool(self.call_many([(self.oracle, "isModelApproved", [raw])])[0])

    def is_node(self, address: str) -> bool:
        return bool(self.rpc(lambda: self.oracle.functions.isNode(address).call()))

    def gate_status(self, target: str, item_id: int) -> str:
        contract = self.w3.eth.contract(target, abi=next(c.abi for _, c in self._sources.values()))
        return GATE_STATUS[int(self.rpc(lambda: contract.functions.gateStatus(item_id).call()))]

    def balance(self, address: str) -> int:
        return int(self.rpc(lambda: self.w3.eth.get_balance(address)))

    def payment(self, pid: int) -> RouterPayment:
        """The router's record of payment `pid`; an id the router does not know (its `payment`
        reverts with `PaymentRouterUnknownPayment`) reads as status 0, "none"."""
        try:
            raw = self.rpc(lambda: self.router.functions.payment(pid).call())
        except ContractLogicError as exc:
            data = getattr(exc, "data", None)
            if str(data or "").startswith(UNKNOWN_PAYMENT_SELECTOR):
                return RouterPayment(pid, ETH, ETH, ETH, 0, 0, 0)
            raise ChainError(f"payment({pid}) reverted: {self.revert_decoder.decode(data)}") from None
        return self._router_payment(pid, raw, self.payment_terms([pid]).get(pid, NO_TERMS))

    def payments(self, ids: Sequence[int]) -> dict[int, RouterPayment]:
        """`payment` for many ids in one JSON-RPC batch (one by one if an id is unknown), their
        terms from one log query."""
        try:
            raws = self.call_many([(self.router, "payment", [pid]) for pid in ids])
        except ChainError:
            return {pid: self.payment(pid) for pid in ids}
        terms = self.payment_terms(ids)
        return {
            pid: self._router_payment(pid, r, terms.get(pid, NO_TERMS))
            for pid, r in zip(ids, raws, strict=True)
        }

    @staticmethod
    def _router_payment(pid: int, raw: Sequence[Any], terms: Terms) -> RouterPayment:
        """`payment(id)` answers (termsHash, score, token, feeBps, deadline, status)."""
        return RouterPayment(pid, terms.payer, terms.payee, raw[2], terms.amount, int(raw[4]), int(raw[5]))

    def payment_terms(self, ids: Sequence[int]) -> dict[int, Terms]:
        """The terms of router payments `ids` from their `PaymentRequested` logs (one `eth_getLogs`
        from the deployment block, the ids as topic 1); ids without a log are left out."""
        if not ids or self.router.address not in self._sources:
            return {}
        prefix, decoder = self._topics[self._request_topic]
        wanted = ["0x" + int(i).to_bytes(32, "big").hex() for i in dict.fromkeys(ids)]
        query = {
            "fromBlock": hex(self.deployment.block),
            "toBlock": "latest",
            "address": self.router.address,
            "topics": [Web3.to_hex(self._request_topic), wanted],
        }
        out: dict[int, Terms] = {}
        try:
            for log in self.request("eth_getLogs", [query]):
                args = decoder.decode(log)
                out[int(args["id"])] = Terms(args["payer"], args["payee"], args["token"], int(args["amount"]))
        except (KeyError, TypeError, ValueError, IndexError, DecodingError) as exc:
            raise ChainError(f"RPC {self.rpc_url} sent malformed logs: {type(exc).__name__}") from None
        return out

    def item_terms(self, target: str, ids: Sequence[int]) -> dict[int, Terms]:
        """The terms a verdict on (`target`, id) carries: a router payment's from its log; any other
        target (Escrow) ignores them, so none are looked up (the caller sends NO_TERMS)."""
        if self.checksums(target) != self.router.address:
            return {}
        return self.payment_terms(ids)

    def call_many(self, calls: Sequence[tuple[Any, str, Sequence[Any]]]) -> list[Any]:
        """Several view calls (contract, function name, arguments) in one JSON-RPC batch, each
        decoded as web3's `.call()` would; any failing call is a ChainError."""
        if not calls:
            return []
        fns, requests_ = [], []
        for contract, name, args in calls:
            fn_abi, data = self._encoded_call(contract, name, args)
            fns.append(fn_abi)
            requests_.append(("eth_call", [{"to": contract.address, "data": data}, "latest"]))
        out = []
        for (_, name, _), fn_abi, answer in zip(calls, fns, self._batch(requests_), strict=True):
            if not isinstance(answer, dict) or "error" in answer or "result" not in answer:
                error = answer.get("error") if isinstance(answer, dict) else answer
                raise ChainError(f"RPC error in {name}: {error}")
            try:
                out.append(decode_call(fn_abi, answer["result"]))
            except (DecodingError, ValueError, TypeError) as exc:
                raise ChainError(f"RPC {self.rpc_url} sent a malformed {name} result: {exc}") from None
        return out

    def _encoded_call(self, contract: Any, name: str, args: Sequence[Any]) -> tuple[dict[str, Any], str]:
        """A view call's ABI and calldata. Remembered (bounded) for the calls the loop repeats every
        few seconds (the thresholds, a model's approval): web3's lookup and encoder cost a few ms."""
        key = (contract.address, name, *((type(a), a) for a in args))  # True is not 1 here
        try:
            known = self._calls.get(key)
        except TypeError:  # an argument that cannot be a key (a list): encoded every time
            key, known = None, None
        if known is None:
            known = (contract.get_function_by_name(name).abi, contract.encode_abi(name, args=list(args)))
            if key is not None:
                if len(self._calls) >= 1024:
                    del self._calls[next(iter(self._calls))]
                self._calls[key] = known
        return known

    def payment_count(self) -> int:
        return int(self.rpc(lambda: self.router.functions.paymentCount().call()))

    def logs(
        self,
        address: str | Sequence[str],
        topics: Iterable[bytes],
        from_block: int | None = None,
        to_block: int | str = "latest",
    ) -> list[Any]:
        """`eth_getLogs` for any of `topics` (as topic0) emitted by `address`, from the deployment
        block by default; transport failures become ChainError."""
        query = {
            "fromBlock": self.deployment.block if from_block is None else from_block,
            "toBlock": to_block,
            "address": address if isinstance(address, str) else list(address),
            "topics": [[Web3.to_hex(t) for t in topics]],
        }
        return list(self.rpc(lambda: self.w3.eth.get_logs(query)))  # type: ignore[arg-type]

    # --- writes --------------------------------------------------------------------------------
    def submit_verdicts(self, items: Sequence[VerdictItem]) -> str:
        """Signs and sends one `submitVerdicts` transaction; returns its hash (see `send_verdicts`)."""
        return self.send_verdicts(items).tx_hash

    def send_verdicts(self, items: Sequence[VerdictItem], gas: int | None = None) -> SentTx:
        """Signs and sends one `submitVerdicts` transaction without waiting for it to be mined
        (`TxSender`: local nonces, so several can be in flight at once). `gas`: the gas limit (the
        daemon's, from the items' budgets: `oracle.budget`); without it the node estimates it."""
        if self.sender is None:
            raise ChainError("this client has no node key")
        return self.sender.send(
            self._oracle_address, self.verdicts_calldata(items), "submitVerdicts", gas=gas
        )

    def estimate_verdicts(self, items: Sequence[VerdictItem]) -> Probe:
        """The gas `submitVerdicts(items)` needs, estimated with the fee fields it will be sent
        with; or why the node refuses it (the decoded revert: `RiskOracleUnknownTarget(0x..)`, out of
        gas, ...). A refusal that is not about the items (our node removed, no funds, the RPC down)
        is a ChainError, so no item is ever parked for it."""
        if self.sender is None:
            raise ChainError("this client has no node key")
        try:
            return Probe(self.sender.estimate(self._oracle_address, self.verdicts_calldata(items)))
        except EstimateRefused as exc:
            reason = self.revert_decoder.from_rpc_error(exc.error)
            if reason.startswith(NODE_WIDE_REVERTS):
                raise ChainError(f"submitVerdicts refused for every item: {reason}") from None
            return Probe(None, reason)

    def call_verdicts(self, items: Sequence[VerdictItem], gas: int) -> Probe:
        """Whether `submitVerdicts(items)` runs within `gas` (an `eth_call` with the fee fields it
        will be sent with): Probe(gas) if it does, else the decoded reason. The split-and-park
        rule's probe: a twentieth of the cost of an estimate. Node-wide refusals are a ChainError,
        as in `estimate_verdicts`."""
        if self.sender is None:
            raise ChainError("this client has no node key")
        try:
            self.sender.call(self._oracle_address, self.verdicts_calldata(items), gas)
        except EstimateRefused as exc:
            reason = self.revert_decoder.from_rpc_error(exc.error)
            if reason.startswith(NODE_WIDE_REVERTS):
                raise ChainError(f"submitVerdicts refused for every item: {reason}") from None
            return Probe(None, reason)
        return Probe(gas)

    def gas_budget(self) -> GasBudget:
        """Per-item worst-case gas from the router's listed tokens and their push budgets."""
        fns = self.router.functions
        tokens, budgets = self.rpc(lambda: fns.listedTokens().call())
        fixed = {address: XBORDER_ITEM_GAS for address, (gate, _) in self._sources.items() if gate == XBORDER}
        return GasBudget(dict(zip(tokens, budgets, strict=True)), self.router.address, fixed)

    def block_gas_limit(self) -> int:
        """The latest block's gas limit (re-read every GAS_LIMIT_TTL seconds)."""
        now = time.monotonic()
        if self._gas_limit is None or now - self._gas_limit[1] > GAS_LIMIT_TTL:
            limit = int(self.rpc(lambda: self.w3.eth.get_block("latest")["gasLimit"]))
            self._gas_limit = (limit, now)
        return self._gas_limit[0]

    def verdicts_calldata(self, items: Sequence[VerdictItem]) -> str:
        """`submitVerdicts(items)` calldata as 0x hex."""
        return self.codec.calldata(items)

    def resync_nonce(self) -> None:
        """Forget the local nonce; the next send reads it from the node ("pending")."""
        if self.sender is not None:
            self.sender.resync_nonce()

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt if the transaction is mined, else None (never waits)."""
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        except requests.RequestException as exc:
            raise ChainError(f"RPC {self.rpc_url} unreachable: {type(exc).__name__}") from None
        except (json.JSONDecodeError, BadResponseFormat) as exc:
            raise ChainError(f"RPC {self.rpc_url} sent a malformed response: {type(exc).__name__}") from None
        return dict(receipt) if receipt is not None else None

    def receipts(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Receipts of several transactions in one JSON-RPC batch, None for those not mined yet;
        raw logs (hex strings), with status, gasUsed and blockNumber as ints. Never waits."""
        if not tx_hashes:
            return {}
        answers = self._batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        out: dict[str, dict[str, Any] | None] = {}
        try:
            for tx_hash, answer in zip(tx_hashes, answers, strict=True):
                if "error" in answer:
                    raise ChainError(f"RPC error: {answer['error']}")
                receipt = answer.get("result")
                if receipt is not None:
                    receipt = dict(receipt)
                    for key in ("status", "gasUsed", "blockNumber"):
                        if key in receipt:
                            receipt[key] = as_int(receipt[key])
                out[tx_hash] = receipt
        except (AttributeError, TypeError, ValueError) as exc:
            raise ChainError(f"RPC {self.rpc_url} sent a malformed receipt: {type(exc).__name__}") from None
        return out

    def known_tx(self, tx_hash: str) -> SentTx | None:
        """The transaction as the node holds it (in its pool, or mined), or None if the node does not
        know it (dropped, or never received). One `eth_getTransactionByHash`: the outbox asks before
        it sends again the verdicts of a transaction it has waited long for."""
        (answer,) = self._batch([("eth_getTransactionByHash", [tx_hash])])
        if not isinstance(answer, dict) or "error" in answer:
            raise ChainError(f"RPC error: {answer.get('error') if isinstance(answer, dict) else answer}")
        tx = answer.get("result")
        if tx is None:
            return None
        try:
            return SentTx(tx_hash, as_int(tx["nonce"]), as_int(tx["gas"]))
        except (KeyError, TypeError, ValueError) as exc:
            what = type(exc).__name__
            raise ChainError(f"RPC {self.rpc_url} sent a malformed transaction: {what}") from None

    def block_hashes(self, numbers: Sequence[int]) -> dict[int, str | None]:
        """Block number -> hash (0x hex) of the node's current chain, None past its head; one batch."""
        if not numbers:
            return {}
        answers = self._batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
        out: dict[int, str | None] = {}
        for number, answer in zip(numbers, answers, strict=True):
            block = answer.get("result") if isinstance(answer, dict) else None
            found = isinstance(block, dict) and block.get("hash")
            out[number] = "0x" + raw_bytes(block["hash"]).hex() if found else None  # type: ignore[index]
        return out

    def raw_calls_at(self, calls: Sequence[tuple[str, bytes]], block: int) -> list[bytes | None]:
        """`eth_call` of each (contract address, calldata) at `block`, in one JSON-RPC batch: the
        return data, or None where the call reverted or answered nothing."""
        if not calls:
            return []
        batch = [("eth_call", [{"to": to, "data": "0x" + data.hex()}, hex(block)]) for to, data in calls]
        answers = self._batch(batch)
        out: list[bytes | None] = []
        for answer in answers:
            result = answer.get("result") if isinstance(answer, dict) else None
            out.append(raw_bytes(result) if isinstance(result, str) and len(result) > 2 else None)
        return out

    def _batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """One JSON-RPC batch; the answers in order, one per call. Transport failures and answers
        that are not a batch of the right length are ChainErrors (the daemon backs off on those)."""
        try:
            if self._raw is not None:
                answers = self._raw.batch(calls)
            else:
                answers = self.w3.provider.make_batch_request(calls)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            raise ChainError(f"RPC {self.rpc_url} unreachable: {type(exc).__name__}") from None
        except (json.JSONDecodeError, BadResponseFormat, ValueError, TypeError) as exc:
            raise ChainError(f"RPC {self.rpc_url} sent a malformed response: {type(exc).__name__}") from None
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise ChainError(f"RPC {self.rpc_url} sent a malformed batch response")
        return answers

    def wait_receipt(self, tx_hash: str, timeout: float = 60.0) -> dict[str, Any] | None:
        """The receipt, or None if the transaction is not mined within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                return receipt
            time.sleep(0.002)
        return None

    def batch_outcome(self, receipt: dict[str, Any]) -> BatchOutcome:
        """Splits a verdict transaction's logs into posted, skipped and finally decided items."""
        return self.codec.outcome(receipt)

    # --- plumbing ------------------------------------------------------------------------------
    def request(self, method: str, params: list[Any]) -> Any:
        """One raw JSON-RPC call (no web3 formatting of the result); failures become ChainError."""
        if self._raw is not None:
            response = self._raw.call(method, params)
        else:
            response = self.rpc(lambda: self.w3.provider.make_request(method, params))  # type: ignore[arg-type]
        if not isinstance(response, dict):
            raise ChainError(f"RPC {self.rpc_url} sent a malformed response")
        if "error" in response:
            raise ChainError(f"RPC error: {response['error']}")
        if "result" not in response:
            raise ChainError(f"RPC {self.rpc_url} sent a malformed response")
        return response["result"]

    def rpc(self, fn: Any) -> Any:
        """Runs one read, turning transport failures into ChainError (the daemon backs off)."""
        try:
            return fn()
        except requests.RequestException as exc:
            raise ChainError(f"RPC {self.rpc_url} unreachable: {type(exc).__name__}") from None
        except Web3RPCError as exc:
            raise ChainError(f"RPC error: {exc}") from None
        except (json.JSONDecodeError, BadResponseFormat) as exc:
            # Not JSON-RPC at all (a proxy's HTML error page, a truncated body): back off like an outage.
            raise ChainError(f"RPC {self.rpc_url} sent a malformed response: {type(exc).__name__}") from None
