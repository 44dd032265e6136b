/* Staff accounts (员工账号), admins: add an account, change a role, disable or enable one, set a
 * new password (/api/v1/staff). The server checks every change and says why it refuses one; a
 * changed password or role, or a disabled account, ends that person's open sessions at once. */
(function () {
  "use strict";
  const { el } = DG;
  const ROLES = ["receptionist", "advisor", "manager", "admin"];
  let accounts = [];
  let me = null;

  const roleText = (r) => I18N.t(`audit.role.${r}`);
  const form = () => document.querySelector("[data-slot=add]");

  const status = (key, vars, error) => DG.setStatus(document.querySelector("[data-slot=status]"), key, vars, error);

  function roleSelect(value, attrs) {
    const select = el("select", attrs, ...ROLES.map((r) => el("option", { value: r, text: roleText(r) })));
    select.value = value;
    return select;
  }

  async function change(username, patch, doneKey) {
    const res = await DG.api(`/api/v1/staff/${encodeURIComponent(username)}`, { method: "PATCH", json: patch }).catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) { status("staff.refused", { why: res ? DG.reason(res.body) : I18N.t("login.network") }, true); await load(); return; }
    status(doneKey, { user: username });
    await load();
  }

  function passwordCell(a) {
    const input = el("input", { type: "password", maxlength: "128", autocomplete: "new-password", "aria-label": I18N.t("staff.newPassword"),
      placeholder: I18N.t("staff.newPassword") });
    const save = el("button", { class: "btn", type: "button", text: I18N.t("staff.setPassword"),
      onclick: () => change(a.username, { password: input.value }, "staff.done.password") });
    return el("td", { class: "staff-password" }, input, save);
  }

  function row(a) {
    const self = me && a.username === me.username;
    return el("tr", { dataset: { user: a.username, active: String(a.active) } },
      el("td", { text: a.username }),
      el("td", { text: a.display_name }),
      el("td", {}, roleSelect(a.role, { "aria-label": I18N.t("staff.f.role"), disabled: self,
        onchange: (ev) => change(a.username, { role: ev.target.value }, "staff.done.role") })),
      el("td", { text: a.site || "—" }),
      el("td", {}, el("span", { class: "audit-role", text: I18N.t(a.active ? "staff.active" : "staff.disabled") }),
        el("button", { class: "btn", type: "button", disabled: self, dataset: { action: a.active ? "disable" : "enable" },
          text: I18N.t(a.active ? "staff.disable" : "staff.enable"),
          onclick: () => change(a.username, { active: !a.active }, a.active ? "staff.done.disable" : "staff.done.enable") })),
      passwordCell(a));
  }

  function render() {
    const roleField = form().elements.role;
    const chosen = roleField.value || "receptionist";
    roleField.replaceChildren(...ROLES.map((r) => el("option", { value: r, text: roleText(r) })));
    roleField.value = chosen;
    document.querySelector("[data-slot=rows]").replaceChildren(...accounts.map(row));
    document.body.dataset.ready = "true";
  }

  async function load() {
    const res = await DG.api("/api/v1/staff").catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) { status("staff.error", null, true); return; }
    accounts = res.body;
    render();
  }

  async function add(ev) {
    ev.preventDefault();
    const f = form();
    const body = { username: f.elements.username.value.trim(), display_name: f.elements.display_name.value.trim(),
      role: f.elements.role.value, password: f.elements.password.value };
    const res = await DG.api("/api/v1/staff", { method: "POST", json: body }).catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) { status("staff.refused", { why: res ? DG.reason(res.body) : I18N.t("login.network") }, true); return; }
    f.reset();
    status("staff.done.add", { user: body.username });
    await load();
  }

  document.addEventListener("DOMContentLoaded", async () => {
    me = await DG.mountStaffHeader();
    form().addEventListener("submit", add);
    I18N.onChange(render);
    render();
    await load();
  });
})();
