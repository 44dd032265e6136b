/* Audit trail (审计记录), managers and admins: who opened which customer's file, from
 * /api/v1/audit, newest first; the filter lives in the address, so a reload or a shared link shows
 * the same rows. Every search is itself recorded on the trail by the server. */
(function () {
  "use strict";
  const { el } = DG;
  const FIELDS = ["customer_id", "plate", "who", "action", "since", "until"];
  const ACTIONS = [
    "view_customer", "list_arrivals", "snapshot_frontdesk", "snapshot_advisor", "acknowledge_arrival",
    "correct_match", "list_tasks", "update_task", "log_contact", "quote_options", "create_quote",
    "book_appointment", "view_consent", "record_consent", "export_dashboard", "read_audit",
    "staff.add", "staff.password", "staff.role", "staff.disable", "staff.enable",
  ];
  const PAGE = 100;
  let rows = [];
  let nextBefore = null;

  const form = () => document.querySelector("[data-slot=filter]");
  const known = (key) => I18N.has(key);
  const actionText = (a) => (known(`audit.action.${a}`) ? I18N.t(`audit.action.${a}`) : a);
  const roleText = (r) => (known(`audit.role.${r}`) ? I18N.t(`audit.role.${r}`) : r);

  const status = (key, vars, error) => DG.setStatus(document.querySelector("[data-slot=status]"), key, vars, error);

  function actionOptions() {
    const select = form().elements.action;
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: I18N.t("audit.allActions") }),
      ...ACTIONS.map((a) => el("option", { value: a, text: actionText(a) })));
    select.value = chosen;
  }

  /** The filter as query parameters: the form's non-empty fields. */
  function filter() {
    const q = new URLSearchParams();
    FIELDS.forEach((name) => {
      const v = form().elements[name].value.trim();
      if (v) q.set(name, v);
    });
    return q;
  }

  function row(e) {
    const when = new Date(e.at).toLocaleString(I18N.lang === "en" ? "en-GB" : "zh-CN", { hour12: false });
    const customer = e.customer_id ? `#${e.customer_id} ${e.customer_name || ""}`.trim() : "—";
    return el("tr", { dataset: { id: String(e.id), action: e.action } },
      el("td", { class: "audit-at", text: when }),
      el("td", {}, e.who, el("span", { class: "audit-role", text: roleText(e.role) })),
      el("td", { text: actionText(e.action) }),
      el("td", { text: customer }),
      el("td", { text: e.plate ? DG.formatPlate(e.plate) : "—" }),
      el("td", { class: "audit-detail", text: e.detail }));
  }

  function render() {
    document.querySelector("[data-slot=rows]").replaceChildren(...rows.map(row));
    document.querySelector("[data-action=more]").classList.toggle("hidden", nextBefore === null);
    document.body.dataset.ready = "true";
  }

  const startLoad = DG.newestOnly();

  async function load(more) {
    const current = startLoad();
    document.body.dataset.ready = "false";
    const q = filter();
    if (!more) window.history.replaceState(null, "", q.toString() ? `?${q}` : window.location.pathname);
    q.set("limit", String(PAGE));
    if (more && nextBefore !== null) q.set("before", String(nextBefore));
    const res = await DG.api(`/api/v1/audit?${q}`).catch(() => null);
    if (!current()) return; // a newer search started while this one was on its way
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) {
      if (res && res.status === 422) status("audit.invalid", { why: DG.reason(res.body) }, true);
      else status("audit.error", null, true);
      document.body.dataset.ready = "true";
      return;
    }
    rows = more ? rows.concat(res.body.entries) : res.body.entries;
    nextBefore = res.body.next_before;
    if (rows.length) status("audit.count", { n: rows.length });
    else status("audit.none");
    render();
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.mountStaffHeader();
    actionOptions();
    const params = new URLSearchParams(window.location.search);
    FIELDS.forEach((name) => { if (params.get(name)) form().elements[name].value = params.get(name); });
    form().addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
    form().addEventListener("reset", () => setTimeout(() => load(false), 0)); // after the fields are cleared
    document.querySelector("[data-action=more]").addEventListener("click", () => load(true));
    I18N.onChange(() => { actionOptions(); render(); });
    load(false);
  });
})();
