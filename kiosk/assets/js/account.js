/* Change my password (/account, any staff member): the current password proves it is them; the new
 * one ends their sessions on every other device, this one gets a fresh session and stays in. */
(function () {
  "use strict";

  function notice(key, vars, ok) {
    const box = document.querySelector("[data-slot=notice]");
    DG.setStatus(box, key, vars, !ok);
    box.classList.toggle("login__notice--ok", Boolean(ok));
    box.classList.remove("hidden");
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await DG.mountStaffHeader();
    if (!me) return;
    document.querySelector("[data-slot=back]").href = me.home;
    const form = document.querySelector("[data-slot=form]");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const { current, new: fresh, confirm } = form.elements;
      if (fresh.value !== confirm.value) { notice("account.mismatch"); confirm.select(); return; }
      const res = await DG.api("/api/v1/me/password", { method: "POST", json: { current: current.value, new: fresh.value } })
        .catch(() => null);
      if (!res) { notice("login.network"); return; }
      if (res.status === 401) { DG.toLogin(); return; }
      if (res.status === 429) { notice("login.locked", { n: DG.waitMinutes(res.headers.get("Retry-After")) }); return; }
      if (res.status === 403) { notice("account.wrongCurrent"); current.select(); return; }
      if (!res.ok) { notice("account.refused", { why: DG.reason(res.body) }); return; }
      form.reset();
      notice("account.done", null, true);
    });
  });
})();
