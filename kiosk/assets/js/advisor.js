/* Advisor tablet: today's arrival queue, the suggested task for the selected one, and the
 * customer file on demand (each opening is audited server-side). */
(function () {
  "use strict";
  const { el } = DG;
  const arrivals = new Map();
  let selected = null;
  let fresh = new Set();

  function sorted() {
    return [...arrivals.values()].sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1));
  }

  function tierOf(a) { return a.known ? DG.tierKey(a.policy) : "unknown"; }

  function expiryText(a) {
    const key = tierOf(a);
    if (!a.known) return I18N.t("fd.unknown");
    if (key === "unknown") return I18N.t("fd.noPolicy");
    const d = a.policy.days_to_expiry;
    return key === "expired" ? `${I18N.t("fd.expired")} ${-d} ${I18N.t("fd.days")}` : `${d} ${I18N.t("fd.days")}`;
  }

  function queueItem(a) {
    const name = a.known && a.customer ? a.customer.honorific : I18N.t("fd.unknown");
    const item = el("li", {
      class: `arrival-card arrival-card--queue tier-${tierOf(a)}${fresh.has(a.event_id) ? " is-new" : ""}`,
      dataset: { plate: a.plate, eventId: a.event_id, known: String(a.known) },
      role: "button", tabindex: "0", "aria-selected": String(a.event_id === selected),
      onclick: () => select(a.event_id),
      onkeydown: (ev) => { if (ev.key === "Enter") select(a.event_id); },
    },
    el("div", { class: "aq-top" }, DG.plateBadge(a.plate, a.plate_color, a.plate_type, "s"), el("span", { class: "aq-name", text: name })),
    a.grade ? el("span", { class: `grade grade--${a.grade}`, text: a.grade }) : el("span"),
    el("div", { class: "aq-sub" },
      el("span", { text: a.vehicle ? `${a.vehicle.brand} ${a.vehicle.model}` : "—" }),
      el("span", { text: `${expiryText(a)} · ${DG.timeHM(a.captured_at)}` })));
    return item;
  }

  function stat(label, value, cls) {
    return el("div", { class: "d-stat" }, el("div", { class: "d-stat__l", text: label }),
      el("div", { class: `d-stat__v${cls ? " " + cls : ""}`, text: value }));
  }

  function detail(a) {
    const tier = tierOf(a);
    const head = el("div", { class: "panel d-card" },
      el("div", { class: "d-head" },
        DG.plateBadge(a.plate, a.plate_color, a.plate_type, "l"),
        el("div", { class: "d-name" }, a.known && a.customer ? a.customer.honorific : I18N.t("fd.unknown"),
          a.known && a.customer ? el("small", { text: a.customer.name }) : null),
        a.grade ? el("span", { class: `grade grade--${a.grade}`, title: I18N.t(`grade.${a.grade}`), text: a.grade }) : null,
        a.segment ? el("span", { class: "chip", text: I18N.pick(a.segment) }) : null,
        el("span", { class: "spacer" }),
        el("span", { class: "faint", text: `${DG.timeHM(a.captured_at)} · ${a.camera}` })),
      el("div", { class: "d-car", text: a.vehicle
        ? `${a.vehicle.brand} ${a.vehicle.model} ${a.vehicle.series || ""}`
        : I18N.t("fd.unknown.sub") }));
    if (a.known) {
      const p = a.policy;
      head.append(el("div", { class: `d-grid tier-${tier}` },
        stat(I18N.t("fd.expiry"), expiryText(a), "tier-color"),
        stat(I18N.t("fd.insurer"), p ? `${p.insurer} · ${I18N.t(`channel.${p.channel}`)}` : "—"),
        stat(I18N.t("adv.col.premium"), p && p.premium ? `¥${Math.round(p.premium).toLocaleString()}` : "—"),
        stat(I18N.t("adv.col.ncd"), p && p.ncd_factor ? p.ncd_factor.toFixed(2) : "—")));
    }
    const task = el("div", { class: `panel d-card d-task tier-${tier}` },
      el("h3", { class: "section-title", text: I18N.t("adv.task") }),
      el("p", { class: "d-task__title", text: I18N.pick(a.task && a.task.title) }));
    const nodes = [head, task];
    if (a.task && a.task.package) {
      const pkg = a.task.package;
      nodes.push(el("div", { class: "d-cols" },
        el("div", { class: "panel d-card" },
          el("h3", { class: "section-title", text: I18N.t("adv.package") }),
          el("div", { class: "d-pkg", text: I18N.pick(pkg) }),
          el("div", { class: "d-covers" }, pkg.coverages.map((c) => el("span", { class: "chip", text: I18N.t(`cover.${c}`) })))),
        el("div", { class: "panel d-card" },
          el("h3", { class: "section-title", text: I18N.t("adv.points") }),
          a.task.talking_points.length
            ? el("ul", { class: "d-points" }, a.task.talking_points.map((t) => el("li", { text: I18N.pick(t) })))
            : el("p", { class: "muted", text: I18N.t("adv.none") }))));
    }
    if (a.history) {
      const h = a.history;
      const last = h.last_visit
        ? `${h.last_visit.date} · ${I18N.t(`visit.${h.last_visit.kind}`)}`
        : I18N.t("adv.none");
      nodes.push(el("div", { class: "panel d-card" },
        el("h3", { class: "section-title", text: I18N.t("adv.history") }),
        el("div", { class: "d-grid" },
          stat(I18N.t("adv.claimsLastYear"), `${h.claims_last_year} ${I18N.t("adv.times")}`),
          stat(I18N.t("adv.renewals"), `${h.dealer_renewals} ${I18N.t("adv.times")}`),
          stat(I18N.t("adv.visits"), `${h.visits_total} ${I18N.t("adv.times")}`),
          stat(I18N.t("adv.lastVisit"), last))));
    }
    if (a.known && a.customer) {
      nodes.push(el("div", { class: "d-actions" },
        el("button", { class: "btn btn--primary", type: "button", text: I18N.t("adv.open360"),
          onclick: () => open360(a.customer.id) }),
        el("span", { class: "faint", text: I18N.t("adv.auditNote") })));
    }
    return nodes;
  }

  function table(headers, rows) {
    return el("table", { class: "x-table" },
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: I18N.t(h) })))),
      el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c) => (c instanceof Node ? el("td", {}, c) : el("td", { text: c })))))
        : el("tr", {}, el("td", { colspan: headers.length, class: "faint", text: I18N.t("adv.none") }))));
  }

  async function open360(customerId) {
    const dialog = document.querySelector("[data-slot=dialog]");
    const res = await DG.api(`/api/v1/customers/${customerId}`);
    if (res.status === 401) { DG.toLogin(); return; }
    if (!res.ok) return;
    const c = res.body.customer;
    const money = (v) => `¥${Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 })}`;
    const body = el("div", { class: "x-body" },
      el("p", { class: "muted" }, `${I18N.t("adv.phone")} ${c.phone} · ${I18N.t("adv.city")} ${c.city}`),
      res.body.vehicles.map((v) => el("section", { class: "x-vehicle" },
        el("h3", {}, DG.plateBadge(v.vehicle.plate, null, v.vehicle.plate_type, "s"),
          `${v.vehicle.brand} ${v.vehicle.model} ${v.vehicle.series}`,
          el("span", { class: "chip", text: I18N.pick(v.renewal.segment) }),
          el("span", { class: `grade grade--${v.renewal.grade}`, text: v.renewal.grade })),
        el("p", { class: "muted", text: I18N.pick(v.renewal.next_action) }),
        el("div", { class: "x-sub", text: I18N.t("adv.policies") }),
        table(["adv.col.policyNo", "adv.col.insurer", "adv.col.period", "adv.col.premium", "adv.col.ncd", "adv.col.channel"],
          v.policies.map((p) => [p.policy_no, p.insurer, `${p.start_date} → ${p.end_date}`, money(p.premium),
            p.ncd_factor.toFixed(2), I18N.t(`channel.${p.channel}`)])),
        el("div", { class: "x-sub", text: I18N.t("adv.claims") }),
        table(["adv.col.date", "adv.col.type", "adv.col.amount"],
          v.claims.map((k) => [k.date, I18N.t(`claim.${k.type}`), money(k.amount)])),
        el("div", { class: "x-sub", text: I18N.t("adv.visitsList") }),
        table(["adv.col.date", "adv.col.kind", "adv.col.mileage"],
          v.visits.slice(0, 8).map((s) => [s.date, I18N.t(`visit.${s.kind}`), `${(s.mileage || 0).toLocaleString()} ${I18N.t("adv.km")}`])))));
    dialog.replaceChildren(
      el("div", { class: "x-head" }, el("h2", { text: `${c.honorific} · ${c.name}` }), el("span", { class: "spacer" }),
        el("button", { class: "btn", type: "button", text: I18N.t("adv.close"), onclick: () => dialog.close() })),
      body);
    dialog.showModal();
  }

  function render() {
    const list = sorted();
    document.querySelector("[data-slot=queue]").replaceChildren(...list.map(queueItem));
    document.querySelector("[data-slot=queue-empty]").classList.toggle("hidden", list.length > 0);
    const detailSlot = document.querySelector("[data-slot=detail]");
    const a = selected && arrivals.get(selected);
    if (a) detailSlot.replaceChildren(...detail(a));
    else detailSlot.replaceChildren(el("p", { class: "adv-placeholder muted", text: I18N.t("adv.select") }));
    fresh = new Set();
  }

  function select(eventId) { selected = eventId; render(); }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      arrivals.clear();
      (msg.data || []).forEach((a) => arrivals.set(a.event_id, a));
      if (!selected && msg.data && msg.data.length) selected = msg.data[0].event_id;
      render();
    } else if (msg.type === "arrival" && msg.data) {
      const isNew = !arrivals.has(msg.data.event_id);
      arrivals.set(msg.data.event_id, msg.data);
      if (isNew) { fresh.add(msg.data.event_id); DG.Chime.play(false); }
      if (!selected) selected = msg.data.event_id;
      render();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.mountStaffHeader();
    document.addEventListener("pointerdown", () => DG.Chime.unlock(), { once: true });
    const setState = DG.connectionIndicator(document.querySelector("[data-slot=conn]"));
    new DG.LiveSocket("/ws/advisor", { onMessage, onState: setState, staff: true });
    I18N.onChange(render);
  });
})();
