/* Home page: links to the screens and a live view of /healthz. */
(function () {
  "use strict";
  let last = null;

  function render() {
    if (!last) return;
    const set = (slot, text, ok) => {
      const node = document.querySelector(`[data-slot=${slot}]`);
      node.textContent = text;
      if (ok !== undefined) node.dataset.ok = String(ok);
    };
    set("h-db", last.db === "ok" ? I18N.t("health.ok") : last.db, last.db === "ok");
    set("h-mqtt", I18N.t(last.mqtt === "connected" ? "health.connected" : "health.disconnected"), last.mqtt === "connected");
    set("h-arrivals", String(last.arrivals_today));
  }

  async function poll() {
    const res = await DG.api("/healthz").catch(() => null);
    if (res && res.ok) { last = res.body; render(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    poll();
    setInterval(poll, 5000);
    I18N.onChange(render);
  });
})();
