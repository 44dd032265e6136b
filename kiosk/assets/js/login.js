/* Login: POST credentials, then go to ?next= (same-site paths only) or the role's home screen.
   Until this script has taken the form over, the browser posts it itself (method="post" → POST
   /login, which answers with the same redirects): never a GET, so the password stays out of URLs. */
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);

  /** ?next= when it is a plain path on this server (as POST /login checks it): "//host" and
      "/\host" would leave the site, since browsers read a backslash in an address as a slash. */
  function safeNext() {
    const next = params.get("next") || "";
    return /^\/(?!\/)[A-Za-z0-9_\/-]*$/.test(next) ? next : null;
  }

  function notice(key, vars) {
    const box = document.querySelector("[data-slot=notice]");
    DG.setStatus(box, key, vars);
    box.classList.remove("hidden");
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (params.get("denied")) notice("login.denied");
    if (params.get("failed")) notice("login.failed"); // the browser-posted form came back
    if (params.get("locked")) notice("login.locked", { n: DG.waitMinutes(params.get("locked")) });
    const form = document.querySelector("[data-slot=form]");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const data = { username: form.username.value.trim(), password: form.password.value };
      const res = await DG.api("/api/v1/auth/login", { method: "POST", json: data }).catch(() => null);
      button.disabled = false;
      if (!res) { notice("login.network"); return; }
      if (res.status === 429) {
        notice("login.locked", { n: DG.waitMinutes(res.headers.get("Retry-After")) });
        return;
      }
      if (!res.ok) { notice("login.failed"); form.password.select(); return; }
      window.location.href = safeNext() || res.body.home;
    });
  });
})();
