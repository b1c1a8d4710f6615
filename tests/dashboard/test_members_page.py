"""The members' page in a real headless Chromium: a wallet (an EIP-1193 provider injected into the page,
signing with a test key through a Python binding) connects, sees its voting power at the proposal's
snapshot, clicks "Vote for", signs with `eth_signTypedData_v4`, and the vote lands on-chain through
`verdict relay` (its own process). The member holds no ETH."""

from __future__ import annotations

import json

from ape import chain
from eth_account import Account
from playwright.sync_api import expect

from oracle.relay.signing import post_signed, sign_delegation, sign_typed_data
from oracle.store import Store
from verdict_demo.dashboard import free_port, start_dashboard, wait_healthy
from verdict_demo.signed_votes import relayer_running, wait_items
from verdict_deploy.governance import TOKEN, advance, advance_past, encode_call, ensure_delegated, propose
from verdict_deploy.relay import dao_contracts

WALLET = """
window.ethereum = {
  isVerdictTestWallet: true,
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [ADDRESS];
    if (method === "eth_signTypedData_v4") {
      if (params[0].toLowerCase() !== ADDRESS.toLowerCase()) throw new Error("unknown account");
      return await window.verdictWalletSign(params[1]);
    }
    throw new Error("unsupported method " + method);
  },
};
"""


def test_a_member_votes_from_the_members_page_through_the_relayer(
    dao_world, verdict_env, local_roles, page, tmp_path
):
    contracts, _ = dao_world
    governor, token = contracts["CommunityGovernor"], contracts["CommunityToken"]
    proposer = local_roles.members[0]
    member = Account.create()  # the browser wallet's key: VCT, no ETH
    token.transfer(member.address, 60_000 * TOKEN, sender=proposer)
    ensure_delegated(token, [proposer])

    with relayer_running(verdict_env, tmp_path, local_roles.relayer) as relay_url:
        signer = dao_contracts(contracts)
        expiry = int(chain.blocks.head.timestamp) + 3600
        delegation = post_signed(
            relay_url, "delegations", sign_delegation(signer, member.key.hex(), member.address, expiry)
        )
        assert wait_items(relay_url, [delegation])[0]["status"] == "cast"
        advance(1)
        router = contracts["PaymentRouter"]
        pid = propose(governor, [encode_call(router, "setFeeBps", 25)], "Members page: fee 25 bps", proposer)
        advance_past(int(governor.proposalSnapshot(pid.proposal_id)))

        Store(verdict_env["VERDICT_STORE_URL"]).close()
        port = free_port()
        log_path = tmp_path / "dashboard.log"
        dashboard = start_dashboard({**verdict_env, "VERDICT_RELAY_URL": relay_url}, log_path, port)
        try:
            assert wait_healthy(f"http://127.0.0.1:{port}", dashboard), log_path.read_text()
            page.expose_function(
                "verdictWalletSign", lambda typed: sign_typed_data(json.loads(typed), member.key.hex())
            )
            page.add_init_script(WALLET.replace("ADDRESS", json.dumps(member.address)))
            page.goto(f"http://127.0.0.1:{port}/members")
            card = page.locator(f'article[data-proposal="{pid.proposal_id}"]')
            expect(card.locator("[data-state]")).to_have_text("Active")
            expect(card.locator("[data-counting]")).to_have_text("token-weighted")
            expect(card.locator(".track").first).to_have_text("Major track")

            page.click("#connect")
            expect(page.locator("#account")).to_contain_text(member.address)
            expect(card.locator("[data-power]")).to_have_text("60,000")
            expect(card.locator("[data-power-at]")).to_contain_text("at snapshot")

            card.locator('button[data-vote="for"]').click()
            expect(card.locator("[data-vote-status]")).to_contain_text("vote cast in 0x", timeout=60_000)
        finally:
            dashboard.stop()

    assert governor.hasVoted(pid.proposal_id, member.address)
    assert int(governor.proposalVotes(pid.proposal_id)[1]) == 60_000 * TOKEN
    assert chain.provider.web3.eth.get_balance(member.address) == 0
