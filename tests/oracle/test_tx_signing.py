"""The node signs its own transactions (oracle.sender.TxSigner): byte for byte what eth_account's
`sign_transaction` gives for the same key and fields, legacy and EIP-1559, whatever the fields."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples

from oracle.sender import TxSigner

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))
uint = st.one_of(st.integers(0, 2**8), st.integers(0, 2**64 - 1), st.integers(0, 2**256 - 1))
small = st.integers(0, 2**64 - 1)
common = {
    "nonce": small,
    "gas": st.integers(21_000, 2**63 - 1),
    "to": st.binary(min_size=20, max_size=20).map(to_checksum_address),
    "value": uint,
    "data": st.one_of(st.just(b""), st.binary(max_size=1), st.binary(max_size=2_000)),
    "chainId": st.integers(1, 2**32),
}


def _theirs(key: bytes, tx: dict) -> bytes:
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


@settings(max_examples=examples(150), deadline=None)
@given(
    key=keys,
    fields=st.fixed_dictionaries({**common, "maxFeePerGas": uint, "maxPriorityFeePerGas": uint}),
    data_as_hex=st.booleans(),
)
def test_eip1559_transactions_are_signed_as_eth_account_signs_them(key, fields, data_as_hex):
    tx = {**fields, "type": 2}
    if data_as_hex:
        tx["data"] = "0x" + tx["data"].hex()
    assert TxSigner(key).sign(tx) == _theirs(key, tx)


@settings(max_examples=examples(100), deadline=None)
@given(key=keys, fields=st.fixed_dictionaries({**common, "gasPrice": uint}), eip155=st.booleans())
def test_legacy_transactions_are_signed_as_eth_account_signs_them(key, fields, eip155):
    tx = dict(fields)
    if not eip155:
        del tx["chainId"]
    assert TxSigner(key).sign(tx) == _theirs(key, tx)


def test_what_it_does_not_sign_is_refused():
    signer = TxSigner(Account.create().key)
    base = {"chainId": 1, "nonce": 0, "gas": 21_000, "to": "0x" + "11" * 20, "value": 0, "data": b""}
    fees = {"maxFeePerGas": 2, "maxPriorityFeePerGas": 1}
    for tx in (
        {**base, **fees, "type": 2, "accessList": [("0x" + "22" * 20, [])]},  # access lists: not here
        {**base, **fees, "type": 1},
        {**base, **fees, "type": 2, "to": "0x" + "11" * 19},
        {**base, **fees, "type": 2, "nonce": -1},
        {**base, "gasPrice": 1, **fees},
    ):
        with pytest.raises(ValueError):
            signer.sign(tx)
