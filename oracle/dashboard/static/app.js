// Verdict dashboard: auto-refresh of the page body and the reviewer's approve/reject buttons.
"use strict";
(function () {
  const token = document.querySelector('meta[name="verdict-token"]').content;
  let busy = false;
  let asking = null; // the review awaiting the reviewer's confirmation: { id, approve }

  async function refresh(force) {
    const box = document.getElementById("auto-refresh");
    // While a confirmation is open the page stays as it is: the question must not move or vanish.
    if (busy || asking || document.body.dataset.page === "report") return;
    if (!force && (!box || !box.checked)) return;
    try {
      const res = await fetch(location.href, { headers: { "Accept": "text/html" } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      if (busy) return;
      const result = document.getElementById("review-result");
      const kept = result && !result.hidden ? result.outerHTML : null;
      document.getElementById("main").innerHTML = doc.getElementById("main").innerHTML;
      document.getElementById("chain-status").innerHTML = doc.getElementById("chain-status").innerHTML;
      if (kept) document.getElementById("review-result").outerHTML = kept;
      document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) { /* the next tick tries again */ }
  }

  // Step one: say what the click will do and ask. Nothing is signed until "Confirm".
  function ask(button) {
    const id = button.dataset.review;
    const approve = button.dataset.approve === "true";
    const box = document.getElementById("review-confirm");
    asking = { id: id, approve: approve };
    box.innerHTML = "";
    const text = document.createElement("span");
    text.id = "review-confirm-text";
    text.textContent = (approve ? "Approve" : "Reject") + " payment " + id + "? " +
      (approve ? "It settles " + button.dataset.what + " to the payee " : "It refunds " + button.dataset.what + " to the payer ") +
      button.dataset.to + ". The reviewer key signs review(" + id + ", " + approve + "); this cannot be undone.";
    const yes = document.createElement("button");
    yes.id = "review-confirm-yes";
    yes.className = approve ? "approve" : "reject";
    yes.dataset.confirm = "yes";
    yes.textContent = "Confirm: " + (approve ? "approve" : "reject") + " payment " + id;
    const no = document.createElement("button");
    no.id = "review-confirm-no";
    no.dataset.confirm = "no";
    no.textContent = "Cancel";
    box.append(text, yes, no);
    box.hidden = false;
    no.focus();
  }

  function dismiss() {
    asking = null;
    const box = document.getElementById("review-confirm");
    if (box) { box.hidden = true; box.innerHTML = ""; }
  }

  async function review(id, approve) {
    const out = document.getElementById("review-result");
    busy = true;
    document.querySelectorAll("button[data-review]").forEach(b => { b.disabled = true; });
    out.hidden = false;
    out.className = "panel result";
    out.textContent = (approve ? "Approving" : "Rejecting") + " payment " + id + ": sending review(" + id + ", " + approve + ")…";
    try {
      const res = await fetch("/api/review/" + encodeURIComponent(id), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Verdict-Token": token },
        body: JSON.stringify({ approve: approve }),
      });
      const body = await res.json();
      if (!res.ok) {
        out.className = "panel error";
        out.textContent = "Payment " + id + ": " + body.error;
      } else {
        out.className = "panel ok";
        out.innerHTML = "";
        const line = document.createElement("div");
        line.append("Payment " + body.payment_id + " " + (body.approve ? "approved" : "rejected") + " in transaction ");
        const code = document.createElement("code");
        code.id = "review-tx";
        code.textContent = body.tx_hash;
        line.append(code, " (block " + body.block + "). On-chain status now: ");
        const badge = document.createElement("span");
        badge.className = "badge " + body.status;
        badge.id = "review-status";
        badge.dataset.status = body.status;
        badge.textContent = body.status;
        line.append(badge, ".");
        out.append(line);
      }
    } catch (e) {
      out.className = "panel error";
      out.textContent = "Payment " + id + ": the dashboard did not answer (" + e + ")";
    } finally {
      busy = false;
      await refresh(true);
      document.querySelectorAll("button[data-review]").forEach(b => { b.disabled = false; });
    }
  }

  document.addEventListener("click", (ev) => {
    const choice = ev.target.closest("button[data-confirm]");
    if (choice) {
      ev.preventDefault();
      const chosen = asking;
      dismiss();
      if (choice.dataset.confirm === "yes" && chosen) review(chosen.id, chosen.approve);
      return;
    }
    const button = ev.target.closest("button[data-review]");
    if (button && !busy) { ev.preventDefault(); ask(button); }
  });
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && asking) dismiss(); });
  setInterval(() => refresh(false), 5000);
})();
