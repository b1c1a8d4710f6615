// Verdict dashboard: auto-refresh of the page body and the reviewer's approve/reject buttons.
"use strict";
(function () {
  const token = document.querySelector('meta[name="verdict-token"]').content;
  let busy = false;

  async function refresh(force) {
    const box = document.getElementById("auto-refresh");
    if (busy || document.body.dataset.page === "report") return;
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

  async function review(button) {
    const id = button.dataset.review;
    const approve = button.dataset.approve === "true";
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
    const button = ev.target.closest("button[data-review]");
    if (button) { ev.preventDefault(); review(button); }
  });
  setInterval(() => refresh(false), 5000);
})();
