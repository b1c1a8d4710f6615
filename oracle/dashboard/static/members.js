// Members' page: the browser wallet (EIP-1193) signs a ballot; the relayer submits it. Nothing here
// holds a key or sends a transaction.
"use strict";
(function () {
  const wallet = document.getElementById("wallet");
  if (!wallet) return;
  const relay = wallet.dataset.relay.replace(/\/$/, "");
  let account = null;
  // The page's own state (power, vote status) would be lost by the dashboard's auto-refresh.
  const box = document.getElementById("auto-refresh");
  if (box) box.checked = false;

  function say(el, text, css) {
    el.textContent = text;
    el.className = css || "muted";
  }

  async function json(url, options) {
    const res = await fetch(url, options);
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || ("HTTP " + res.status));
    return body;
  }

  async function showPower() {
    const data = await json("/api/members/power?account=" + encodeURIComponent(account));
    document.querySelectorAll("article[data-proposal]").forEach((card) => {
      const p = data.proposals[card.dataset.proposal];
      if (!p) return;
      card.querySelector("[data-power]").textContent = p.votes_text;
      card.querySelector("[data-power-at]").textContent = "at " + p.at + (p.voted ? " · you have voted" : "");
    });
  }

  async function connect() {
    const err = document.getElementById("wallet-error");
    say(err, "", "error");
    if (!window.ethereum) {
      say(err, "No browser wallet found (window.ethereum): install one to vote.", "error");
      return;
    }
    try {
      const accounts = await window.ethereum.request({ method: "eth_requestAccounts" });
      account = accounts[0];
      say(document.getElementById("account"), "connected: " + account, "");
      await showPower();
    } catch (e) {
      say(err, "Wallet: " + e.message, "error");
    }
  }

  async function vote(button) {
    const card = button.closest("article[data-proposal]");
    const status = card.querySelector("[data-vote-status]");
    if (!account) await connect();
    if (!account) return;
    const pid = card.dataset.proposal;
    try {
      say(status, "signing in your wallet…");
      const q = new URLSearchParams({ proposal_id: pid, support: button.dataset.vote, voter: account });
      const typed = (await json(relay + "/typed-data/vote?" + q)).typed_data;
      const signature = await window.ethereum.request({
        method: "eth_signTypedData_v4",
        params: [account, JSON.stringify(typed)],
      });
      const m = typed.message;
      const item = await json(relay + "/votes", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          proposal_id: m.proposalId, support: m.support, voter: m.voter, nonce: m.nonce, signature: signature,
        }),
      });
      say(status, "sent to the relayer (item " + item.id + "), waiting for the chain…");
      for (let i = 0; i < 240; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await json(relay + "/items/" + item.id);
        if (now.status === "cast") {
          say(status, "vote cast in " + now.tx_hash, "ok");
          status.dataset.cast = "true";
          await showPower();
          return;
        }
        if (now.status === "failed") {
          say(status, "the relayed vote failed: " + now.error, "error");
          return;
        }
      }
      say(status, "still waiting; check again later", "error");
    } catch (e) {
      say(status, "not sent: " + e.message, "error");
    }
  }

  document.getElementById("connect").addEventListener("click", connect);
  document.querySelectorAll("button[data-vote]").forEach((b) => b.addEventListener("click", () => vote(b)));
})();
