/* Advisor tablet (顾问平板, 10-inch touch): today's arrival queue and my renewal tasks on the left,
 * the selected car on the right — talking points and objection replies, the customer file (360),
 * the quote builder and the contact log. Every read of a customer's file is audited server-side,
 * so the file and the quote options load on an explicit tap, never for a car merely listed.
 * The server decides everything; this page lays it out and posts what the advisor chose. */
(function () {
  "use strict";
  const { el } = DG;

  const FILTERS = ["open", "overdue", "due_today"];
  const CHANNELS = ["phone", "sms", "wechat", "in_store"];
  const OUTCOMES = ["no_answer", "reached", "considering", "agreed", "refused", "complaint", "renewed", "lost"];
  const CLOSING = ["renewed", "lost"];
  const REASONS = ["price", "unreachable", "service", "moved_sold", "other"];
  const DEDUCTIBLES = [null, 300, 500, 1000, 2000];

  const arrivals = new Map(); // event_id → advisor payload
  const state = {
    tab: "queue",
    filter: "open",
    tasks: [], // open tasks (GET /api/v1/tasks), due first
    today: null, // the server's "today" (dealership time zone)
    tasksError: false,
    ctx: null, // { key, eventId, taskId, customerId, vehicleId, plate }
    file: null, // customer 360 of ctx.customerId, once opened
    fileLoading: false,
    quote: null, // { options, deductible, choice, saved, error, loading }
    form: null, // contact form values, kept across re-renders
    formMsg: null, // { ok, text }
  };
  let fresh = new Set();
  let tasksTimer = null;

  // ---- helpers -----------------------------------------------------------------------------

  const money = (v) => `¥${Math.round(Number(v) || 0).toLocaleString()}`;
  const tierOf = (a) => (a.known ? DG.tierKey(a.policy) : "unknown");
  const label = (prefix, key) => (key && I18N.has(`${prefix}.${key}`) ? I18N.t(`${prefix}.${key}`) : key || "");

  /** The server's bilingual messages read "English / 中文": show the half of the current language. */
  function localize(msg) {
    const i = msg.lastIndexOf(" / ");
    if (i < 0) return msg;
    return I18N.lang === "en" ? msg.slice(0, i) : msg.slice(i + 3);
  }

  /** The message of a failed API call, as the server phrased it (FastAPI 422 lists included). */
  function errorText(res) {
    if (!res) return I18N.t("adv.err.network");
    const d = res.body && res.body.detail;
    let msg = "";
    if (typeof d === "string") msg = d;
    else if (Array.isArray(d)) {
      msg = d.map((e) => {
        const text = String(e.msg || "").replace(/^Value error, /, "");
        const field = (e.loc || []).filter((p) => p !== "body").join(".");
        return field ? `${field}: ${text}` : text;
      }).join("; ");
    }
    return msg ? localize(msg) : I18N.t("adv.err.status", { status: res.status });
  }

  async function call(path, options) {
    const res = await DG.api(path, options).catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return null; }
    return res;
  }

  function plusDays(iso, n) {
    const d = new Date(`${iso}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function segmented(name, values, current, onPick, text) {
    return el("div", { class: "seg", role: "group", dataset: { field: name } },
      values.map((v) => el("button", {
        type: "button", class: "seg__btn", dataset: { value: v === null ? "" : String(v) },
        "aria-pressed": String(v === current), onclick: () => onPick(v),
      }, text(v))));
  }

  function section(id, titleKey, ...children) {
    return el("section", { class: "panel d-card d-sec", id: `sec-${id}`, dataset: { section: id } },
      el("h3", { class: "section-title", text: I18N.t(titleKey) }), children.flat());
  }

  // ---- the left column: arrival queue and my tasks ---------------------------------------

  function sortedArrivals() {
    return [...arrivals.values()].sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1));
  }

  function expiryText(policy, known) {
    if (known === false) return I18N.t("fd.unknown");
    const key = DG.tierKey(policy);
    if (key === "unknown") return I18N.t("fd.noPolicy");
    const d = policy.days_to_expiry;
    return key === "expired" ? `${I18N.t("fd.expired")} ${-d} ${I18N.t("fd.days")}` : `${d} ${I18N.t("fd.days")}`;
  }

  function queueItem(a) {
    const name = a.known && a.customer ? a.customer.honorific : I18N.t("fd.unknown");
    const key = `a:${a.event_id}`;
    return el("li", {
      class: `arrival-card arrival-card--queue tier-${tierOf(a)}${fresh.has(a.event_id) ? " is-new" : ""}`,
      dataset: { plate: a.plate, eventId: a.event_id, known: String(a.known) },
      role: "button", tabindex: "0", "aria-selected": String(!!state.ctx && state.ctx.key === key),
      onclick: () => openArrival(a.event_id, true),
      onkeydown: (ev) => { if (ev.key === "Enter") openArrival(a.event_id, true); },
    },
    el("div", { class: "aq-top" }, DG.plateBadge(a.plate, a.plate_color, a.plate_type, "s"), el("span", { class: "aq-name", text: name })),
    el("div", { class: "aq-marks" }, a.grade ? el("span", { class: `grade grade--${a.grade}`, text: a.grade }) : null,
      DG.siteBadge(a, true)),
    el("div", { class: "aq-sub" },
      el("span", { text: a.vehicle ? `${a.vehicle.brand} ${a.vehicle.model}` : "—" }),
      el("span", { text: `${expiryText(a.policy, a.known)} · ${DG.timeHM(a.captured_at)}` })));
  }

  /** A task's policy countdown in the shape of an arrival's (days and reminder tier). */
  function taskPolicy(t) {
    const d = t.days_to_expiry;
    if (d === null || d === undefined) return null;
    const tier = d < 0 ? "expired" : d <= 30 ? 30 : d <= 60 ? 60 : d <= 90 ? 90 : null;
    return { days_to_expiry: d, tier };
  }

  function taskTitle(t) {
    const kind = label("task.kind", t.kind);
    return t.step ? `${kind} · ${label("task.step", t.step)}` : kind;
  }

  function filtered() {
    if (state.filter === "overdue") return state.tasks.filter((t) => t.overdue);
    if (state.filter === "due_today") return state.tasks.filter((t) => t.due_date === state.today);
    return state.tasks;
  }

  function taskItem(t) {
    const key = `t:${t.id}`;
    const policy = taskPolicy(t);
    return el("li", {
      class: `task-card${t.overdue ? " is-overdue" : ""}`,
      dataset: { taskId: String(t.id), plate: t.vehicle.plate, kind: t.kind, status: t.status },
      role: "button", tabindex: "0", "aria-selected": String(!!state.ctx && state.ctx.key === key),
      onclick: () => openTask(t.id),
      onkeydown: (ev) => { if (ev.key === "Enter") openTask(t.id); },
    },
    el("div", { class: "tc-top" }, DG.plateBadge(t.vehicle.plate, null, null, "s"),
      el("span", { class: "tc-name", text: t.customer ? t.customer.honorific : "—" }),
      t.overdue ? el("span", { class: "badge badge--warn", text: I18N.t("adv.task.overdue") }) : null),
    el("div", { class: "tc-kind", text: taskTitle(t) }),
    el("div", { class: "tc-sub" },
      el("span", { class: "tc-due", text: I18N.t("adv.task.due", { date: t.due_date }) }),
      el("span", { text: label("task.status", t.status) }),
      el("span", { text: t.days_to_expiry === null ? "" : `${I18N.t("fd.expiry")} ${expiryText(policy)}` })));
  }

  function renderSide() {
    const list = sortedArrivals();
    document.querySelector("[data-slot=queue]").replaceChildren(...list.map(queueItem));
    document.querySelector("[data-slot=queue-empty]").classList.toggle("hidden", list.length > 0);
    document.querySelector("[data-slot=count-queue]").textContent = String(list.length);
    document.querySelector("[data-slot=count-tasks]").textContent = String(state.tasks.length);
    document.querySelectorAll(".adv-tabs [data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === state.tab)));
    document.querySelectorAll("[data-pane]").forEach((p) => p.classList.toggle("hidden", p.dataset.pane !== state.tab));
    const counts = {
      open: state.tasks.length,
      overdue: state.tasks.filter((t) => t.overdue).length,
      due_today: state.tasks.filter((t) => t.due_date === state.today).length,
    };
    document.querySelector("[data-slot=filters]").replaceChildren(...FILTERS.map((f) => el("button", {
      type: "button", class: `filter${f === "overdue" && counts.overdue ? " filter--warn" : ""}`, dataset: { filter: f },
      "aria-pressed": String(f === state.filter), onclick: () => { state.filter = f; renderSide(); },
    }, I18N.t(`adv.filter.${f}`), el("span", { class: "count", text: String(counts[f]) }))));
    const tasks = filtered();
    document.querySelector("[data-slot=tasks]").replaceChildren(...tasks.map(taskItem));
    const empty = document.querySelector("[data-slot=tasks-empty]");
    empty.textContent = I18N.t(state.tasksError ? "adv.tasks.error" : "adv.tasks.empty");
    empty.classList.toggle("hidden", tasks.length > 0 && !state.tasksError);
    fresh = new Set();
  }

  const startTasksLoad = DG.newestOnly();

  async function loadTasks() {
    const current = startTasksLoad();
    const res = await call("/api/v1/tasks?filter=open");
    if (res === null || !current()) return;
    state.tasksError = !res.ok;
    if (res.ok) {
      state.tasks = res.body.tasks;
      state.today = res.body.date;
    }
    renderSide();
    if (state.ctx) renderTaskBar();
  }

  function refreshTasksSoon() {
    clearTimeout(tasksTimer);
    tasksTimer = setTimeout(loadTasks, 250);
  }

  // ---- opening a car ------------------------------------------------------------------------

  function setContext(ctx, explicit) {
    const same = state.ctx && state.ctx.customerId === ctx.customerId && state.ctx.vehicleId === ctx.vehicleId;
    state.ctx = ctx;
    if (!same) {
      state.file = null;
      state.quote = null;
      state.form = { channel: ctx.eventId ? "in_store" : "phone", outcome: null, lapse_reason: null,
        competitor_premium: "", note: "", next_follow_up: "" };
      state.formMsg = null;
    }
    renderSide();
    renderDetail();
    if (explicit && ctx.customerId && (!same || !state.file)) loadFile();
  }

  function openArrival(eventId, explicit) {
    const a = arrivals.get(eventId);
    if (!a) return;
    setContext({
      key: `a:${eventId}`, eventId, taskId: null, plate: a.plate,
      customerId: a.known && a.customer ? a.customer.id : null,
      vehicleId: a.known && a.vehicle ? a.vehicle.id : null,
    }, explicit);
  }

  function openTask(taskId) {
    const t = state.tasks.find((x) => x.id === taskId);
    if (!t) return;
    const a = sortedArrivals().find((x) => x.known && x.vehicle && x.vehicle.id === t.vehicle.id);
    setContext({
      key: `t:${taskId}`, eventId: a ? a.event_id : null, taskId, plate: t.vehicle.plate,
      customerId: t.customer ? t.customer.id : null, vehicleId: t.vehicle.id,
    }, true);
  }

  async function loadFile() {
    const ctx = state.ctx;
    state.fileLoading = true;
    renderDetail();
    const res = await call(`/api/v1/customers/${ctx.customerId}`);
    if (state.ctx !== ctx) return;
    state.fileLoading = false;
    state.file = res && res.ok ? res.body : { error: errorText(res) };
    renderDetail();
  }

  /** The selected car's part of the customer file. */
  function carFile() {
    if (!state.file || !state.file.vehicles) return null;
    return state.file.vehicles.find((v) => v.vehicle.id === state.ctx.vehicleId) || null;
  }

  /** The task the contact answers: the one opened, else my open task for this car (arrival first). */
  function currentTask() {
    const ctx = state.ctx;
    if (!ctx) return null;
    const opened = ctx.taskId ? state.tasks.find((t) => t.id === ctx.taskId) : null;
    if (opened) return opened;
    const mine = state.tasks.filter((t) => t.vehicle.id === ctx.vehicleId);
    return mine.find((t) => t.kind === "arrival") || mine[0] || null;
  }

  // ---- the right column ----------------------------------------------------------------------

  function stat(labelText, value, cls) {
    return el("div", { class: "d-stat" }, el("div", { class: "d-stat__l", text: labelText }),
      el("div", { class: `d-stat__v${cls ? " " + cls : ""}`, text: value }));
  }

  function header() {
    const ctx = state.ctx;
    const a = ctx.eventId ? arrivals.get(ctx.eventId) : null;
    const t = ctx.taskId ? state.tasks.find((x) => x.id === ctx.taskId) : null;
    const c = state.file && state.file.customer;
    const honor = a ? (a.known && a.customer ? a.customer.honorific : I18N.t("fd.unknown"))
      : (t && t.customer ? t.customer.honorific : (c ? c.honorific : "—"));
    const fullName = a && a.known && a.customer ? a.customer.name : (t && t.customer ? t.customer.name : null);
    const car = a && a.vehicle ? a.vehicle : (t ? t.vehicle : null);
    const policy = a ? a.policy : (t ? taskPolicy(t) : null);
    const tier = a ? tierOf(a) : DG.tierKey(policy);
    const head = el("div", { class: `panel d-card tier-${tier}` },
      el("div", { class: "d-head" },
        DG.plateBadge(a ? a.plate : ctx.plate, a ? a.plate_color : null, a ? a.plate_type : null, "l"),
        el("div", { class: "d-name" }, honor, fullName ? el("small", { text: fullName }) : null),
        a && a.grade ? el("span", { class: `grade grade--${a.grade}`, title: I18N.t(`grade.${a.grade}`), text: a.grade }) : null,
        a && a.segment ? el("span", { class: "chip", text: I18N.pick(a.segment) }) : null,
        DG.siteBadge(a),
        el("span", { class: "spacer" }),
        a ? el("span", { class: "faint", text: `${DG.timeHM(a.captured_at)} · ${a.camera}` }) : null),
      el("div", { class: "d-car", text: car ? `${car.brand} ${car.model} ${car.series || ""}` : I18N.t("fd.unknown.sub") }));
    // a probable match or an unsure read: check the plate before greeting anyone by name
    if (a && a.match_note) head.append(el("div", { class: "d-warn", role: "note", text: I18N.pick(a.match_note) }));
    if (a ? a.known : true) {
      const p = a ? a.policy : null;
      head.append(el("div", { class: "d-grid" },
        stat(I18N.t("fd.expiry"), expiryText(policy), "tier-color"),
        stat(I18N.t("fd.insurer"), p ? `${p.insurer} · ${I18N.t(`channel.${p.channel}`)}` : "—"),
        stat(I18N.t("adv.col.premium"), p && p.premium ? money(p.premium) : "—"),
        stat(I18N.t("adv.col.ncd"), p && p.ncd_factor ? p.ncd_factor.toFixed(2) : "—")));
    }
    return head;
  }

  function taskBar() {
    const t = currentTask();
    const bar = el("div", { class: "panel d-card d-taskbar", dataset: { slot: "taskbar" } });
    if (!state.ctx.vehicleId) return null;
    if (!t) {
      bar.append(el("span", { class: "muted", text: I18N.t("adv.task.none") }));
      return bar;
    }
    const patch = async (status) => {
      const res = await call(`/api/v1/tasks/${t.id}`, { method: "PATCH", json: { status } });
      if (res === null) return;
      if (!res.ok) { bar.querySelector("[data-slot=task-error]").textContent = errorText(res); return; }
      await loadTasks();
    };
    bar.dataset.taskId = String(t.id);
    bar.append(
      el("div", { class: "tb-info" },
        el("div", { class: "tb-label", text: I18N.t("adv.task.current") }),
        el("div", { class: "tb-title", text: taskTitle(t) }),
        el("div", { class: "tb-sub" },
          el("span", { text: I18N.t("adv.task.due", { date: t.due_date }) }),
          t.overdue ? el("span", { class: "badge badge--warn", text: I18N.t("adv.task.overdue") }) : null,
          el("span", { class: "chip", dataset: { slot: "task-status" }, text: label("task.status", t.status) }),
          el("span", { class: "faint", text: t.assigned_to || I18N.t("adv.task.unassigned") }))),
      el("div", { class: "tb-actions" },
        t.status === "open" ? el("button", { type: "button", class: "btn btn--big", dataset: { taskAction: "in_progress" },
          text: I18N.t("adv.task.start"), onclick: () => patch("in_progress") }) : null,
        el("button", { type: "button", class: "btn btn--big btn--primary", dataset: { taskAction: "done" },
          text: I18N.t("adv.task.done"), onclick: () => patch("done") }),
        el("button", { type: "button", class: "btn btn--big", dataset: { taskAction: "cancelled" },
          text: I18N.t("adv.task.cancel"), onclick: () => patch("cancelled") })),
      el("div", { class: "form-error", role: "alert", dataset: { slot: "task-error" } }));
    return bar;
  }

  function renderTaskBar() {
    const old = document.querySelector("[data-slot=taskbar]");
    const next = state.ctx ? taskBar() : null;
    if (old && next) old.replaceWith(next);
  }

  function nav() {
    const items = [["talk", "adv.nav.talk"], ["file", "adv.nav.file"], ["quote", "adv.nav.quote"], ["log", "adv.nav.log"]];
    return el("nav", { class: "d-nav" }, items.map(([id, key]) => el("button", {
      type: "button", class: "d-nav__btn", dataset: { go: id }, text: I18N.t(key),
      onclick: () => { const s = document.getElementById(`sec-${id}`); if (s) s.scrollIntoView({ block: "start", behavior: "smooth" }); },
    })));
  }

  /** Talking points, objections and profile: the arrival's payload, else the customer file's. */
  function talkSection() {
    const a = state.ctx.eventId ? arrivals.get(state.ctx.eventId) : null;
    const f = carFile();
    const r = f ? f.renewal : null;
    const task = a && a.task ? a.task : null;
    const points = task ? task.talking_points : (r ? r.talking_points : []);
    const objections = task && task.objections ? task.objections : (r && r.objections ? r.objections : []);
    const title = task ? task.title : (r ? r.next_action : null);
    const pkg = task && task.package ? task.package : null;
    const profile = a && a.profile ? a.profile : null;
    const risks = profile ? profile.lapse_risks : (r ? r.lapse_risks : []);
    const nodes = [];
    if (title) nodes.push(el("p", { class: "d-task__title", text: I18N.pick(title) }));
    if (!task && !r) {
      nodes.push(el("p", { class: "muted", text: state.fileLoading ? I18N.t("adv.loading") : I18N.t("adv.none") }));
      return section("talk", "adv.task", nodes);
    }
    const meta = el("div", { class: "d-covers" });
    if (pkg) meta.append(el("span", { class: "chip chip--accent", text: `${I18N.t("adv.package")} · ${I18N.pick(pkg)}` }));
    if (profile) meta.append(el("span", { class: "chip", text: `${I18N.t("adv.profile")} · ${I18N.pick(profile.customer_type)}` }));
    risks.forEach((k) => meta.append(el("span", { class: "chip chip--warn", title: I18N.pick(k.reason), text: `${I18N.t("adv.risks")} · ${I18N.pick(k)}` })));
    if (task && task.next_step) {
      meta.append(el("span", { class: "chip", text: `${I18N.t("adv.nextStep")} · ${I18N.pick(task.next_step)} (${I18N.t("adv.nextStep.day", { n: task.next_step.day })})` }));
    }
    nodes.push(meta);
    nodes.push(el("div", { class: "d-cols" },
      el("div", {},
        el("h4", { class: "d-sub", text: I18N.t("adv.points") }),
        points.length ? el("ul", { class: "d-points", dataset: { slot: "points" } }, points.map((p) => el("li", { text: I18N.pick(p) })))
          : el("p", { class: "muted", text: I18N.t("adv.none") })),
      el("div", {},
        el("h4", { class: "d-sub", text: I18N.t("adv.objections") }),
        objections.length ? el("div", { class: "d-objections", dataset: { slot: "objections" } }, objections.map((o) => el("details", { class: "objection", dataset: { key: o.key } },
          el("summary", {}, el("b", { text: I18N.t("adv.objection.says") }), I18N.pick(o.objection)),
          el("p", {}, el("b", { text: I18N.t("adv.objection.reply") }), I18N.pick(o.reply)))))
          : el("p", { class: "muted", text: I18N.t("adv.none") }))));
    return section("talk", "adv.task", nodes);
  }

  function table(headers, rows, slot) {
    return el("table", { class: "x-table", dataset: { slot } },
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: I18N.t(h) })))),
      el("tbody", {}, rows.length ? rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: c }))))
        : el("tr", {}, el("td", { colspan: headers.length, class: "faint", text: I18N.t("adv.none") }))));
  }

  function fileSection() {
    const ctx = state.ctx;
    if (!ctx.customerId) return section("file", "adv.nav.file", el("p", { class: "muted", text: I18N.t("fd.unknown.sub") }));
    if (!state.file) {
      return section("file", "adv.nav.file",
        state.fileLoading ? el("p", { class: "muted", text: I18N.t("adv.loading") })
          : el("div", { class: "d-actions" },
            el("button", { class: "btn btn--primary btn--big", type: "button", dataset: { action: "open-file" },
              text: I18N.t("adv.open360"), onclick: loadFile }),
            el("span", { class: "faint", text: I18N.t("adv.auditNote") })));
    }
    if (state.file.error) return section("file", "adv.nav.file", el("p", { class: "form-error", text: state.file.error }));
    const c = state.file.customer;
    const f = carFile();
    const nodes = [el("p", { class: "muted" }, `${c.honorific} · ${c.name} · ${I18N.t("adv.phone")} ${c.phone} · ${I18N.t("adv.city")} ${c.city}`)];
    const others = state.file.vehicles.filter((v) => v !== f);
    if (others.length) {
      nodes.push(el("div", { class: "d-covers" }, others.map((v) => DG.plateBadge(v.vehicle.plate, null, v.vehicle.plate_type, "s"))));
    }
    if (!f) return section("file", "adv.nav.file", nodes);
    const latest = f.policies[0];
    nodes.push(el("h4", { class: "d-sub", text: I18N.t("adv.timeline") }),
      el("ol", { class: "timeline", dataset: { slot: "policy-timeline" } }, f.policies.map((p) => el("li", {
        class: `timeline__item${p === latest ? " is-current" : ""}`, dataset: { policyNo: p.policy_no },
      },
      el("div", { class: "timeline__when", text: `${p.start_date} → ${p.end_date}` }),
      el("div", { class: "timeline__what" },
        el("b", { text: p.insurer }), ` · ${money(p.premium)} · NCD ${Number(p.ncd_factor).toFixed(2)} · ${I18N.t(`channel.${p.channel}`)}`,
        p === latest ? el("span", { class: "chip chip--accent", text: I18N.t("adv.current") }) : null),
      el("div", { class: "d-covers" }, p.coverages.map((cv) => el("span", { class: "chip chip--s", text: label("cover", cv.code) })))))),
    el("h4", { class: "d-sub", text: I18N.t("adv.claims") }),
    table(["adv.col.date", "adv.col.type", "adv.col.amount"], f.claims.map((k) => [k.date, label("claim", k.type), money(k.amount)]), "claims"),
    el("h4", { class: "d-sub", text: I18N.t("adv.visitsList") }),
    table(["adv.col.date", "adv.col.kind", "adv.col.mileage"],
      f.visits.slice(0, 8).map((s) => [s.date, label("visit", s.kind), `${(s.mileage || 0).toLocaleString()} ${I18N.t("adv.km")}`]), "visits"),
    el("h4", { class: "d-sub", text: I18N.t("adv.contacts") }),
    table(["adv.col.date", "adv.col.channelShort", "adv.col.outcome", "adv.col.reason", "adv.col.staff", "adv.col.note"],
      (f.contacts || []).map((k) => [k.at.replace("T", " ").slice(0, 16), label("contact", k.channel), label("outcome", k.outcome),
        k.lapse_reason ? label("lapse", k.lapse_reason) : "", k.staff || "", k.note || ""]), "contacts"));
    return section("file", "adv.nav.file", nodes);
  }

  // ---- quote builder -----------------------------------------------------------------------

  const startQuotesLoad = DG.newestOnly();

  async function loadQuotes(deductible) {
    const ctx = state.ctx;
    const current = startQuotesLoad();
    state.quote = Object.assign(state.quote || {}, { loading: true, deductible, error: null });
    renderDetail();
    const q = deductible ? `?deductible=${deductible}` : "";
    const res = await call(`/api/v1/vehicles/${ctx.vehicleId}/quote-options${q}`);
    if (state.ctx !== ctx || !current()) return; // another car, or another deductible picked meanwhile
    state.quote.loading = false;
    if (res && res.ok) {
      state.quote.options = res.body.packages;
      if (!state.quote.choice) {
        const rec = res.body.packages.find((p) => p.recommended);
        state.quote.choice = rec ? rec.key : null;
      }
    } else state.quote.error = errorText(res);
    renderDetail();
  }

  async function saveQuote() {
    const ctx = state.ctx;
    const q = state.quote;
    const pkg = q.options && q.options.find((p) => p.key === q.choice);
    if (!pkg) { q.error = I18N.t("adv.quote.pick"); renderDetail(); return; }
    const body = { package: pkg.key, addons: pkg.addons,
      deductible: pkg.coverages.includes("own_damage") ? q.deductible : null };
    const res = await call(`/api/v1/vehicles/${ctx.vehicleId}/quotes`, { method: "POST", json: body });
    if (state.ctx !== ctx || res === null) return;
    if (res.ok) { q.saved = res.body.quote; q.error = null; } else q.error = errorText(res);
    renderDetail();
  }

  function packageCard(p, q) {
    const change = p.change === null ? null : `${p.change > 0 ? "+" : ""}${(p.change * 100).toFixed(1)}%`;
    const name = I18N.has(`pkg.${p.key}`) ? I18N.t(`pkg.${p.key}`) : I18N.pick(p);
    return el("button", {
      type: "button", class: `pkg${p.recommended ? " pkg--recommended" : ""}`, dataset: { package: p.key, premium: String(p.premium) },
      "aria-pressed": String(q.choice === p.key), onclick: () => { q.choice = p.key; q.error = null; renderDetail(); },
    },
    p.recommended ? el("span", { class: "pkg__badge", text: I18N.t("adv.quote.recommended") }) : null,
    el("span", { class: "pkg__name", text: name }),
    el("span", { class: "pkg__for", text: I18N.t(`pkg.${p.key}.for`) }),
    el("span", { class: "pkg__premium", text: money(p.premium) }),
    el("span", { class: "pkg__daily", text: I18N.t("adv.quote.perDay", { v: Number(p.daily_cost).toFixed(1) }) }),
    change ? el("span", { class: `pkg__change${p.change > 0 ? " up" : " down"}`, text: I18N.t("adv.quote.change", { v: change }) }) : null,
    el("span", { class: "pkg__ncd", text: I18N.t("adv.quote.ncd", { v: Number(p.ncd_next).toFixed(2) }) }),
    el("span", { class: "pkg__covers" }, p.coverages.map((c) => el("span", { class: "chip chip--s", text: label("cover", c) }))),
    p.addons.length ? el("span", { class: "pkg__covers" }, el("span", { class: "faint", text: I18N.t("adv.quote.addons") }),
      p.addons.map((c) => el("span", { class: "chip chip--s chip--accent", text: label("cover", c) }))) : null);
  }

  function quoteSection() {
    const ctx = state.ctx;
    if (!ctx.vehicleId) return section("quote", "adv.nav.quote", el("p", { class: "muted", text: I18N.t("fd.unknown.sub") }));
    const q = state.quote;
    if (!q || (!q.options && !q.loading && !q.error)) {
      return section("quote", "adv.nav.quote", el("div", { class: "d-actions" },
        el("button", { class: "btn btn--primary btn--big", type: "button", dataset: { action: "load-quotes" },
          text: I18N.t("adv.quote.load"), onclick: () => loadQuotes(null) }),
        el("span", { class: "faint", text: I18N.t("adv.auditNote") })));
    }
    const nodes = [el("div", { class: "q-row" },
      el("span", { class: "q-label", text: I18N.t("adv.quote.deductible") }),
      segmented("deductible", DEDUCTIBLES, q.deductible, (v) => loadQuotes(v), (v) => (v === null ? I18N.t("adv.quote.noDeductible") : `${v} ${I18N.t("adv.yuan")}`)),
      el("span", { class: "faint", text: I18N.t("adv.quote.deductibleNote") }))];
    if (q.loading && !q.options) nodes.push(el("p", { class: "muted", text: I18N.t("adv.loading") }));
    if (q.options) {
      nodes.push(el("p", { class: "faint", text: I18N.t("adv.quote.choose") }),
        el("div", { class: `pkgs${q.loading ? " is-loading" : ""}`, dataset: { slot: "packages" } }, q.options.map((p) => packageCard(p, q))));
    }
    nodes.push(el("div", { class: "d-actions" },
      el("button", { class: "btn btn--primary btn--big", type: "button", dataset: { action: "save-quote" },
        disabled: !q.options || q.loading, text: I18N.t("adv.quote.save"), onclick: saveQuote }),
      q.saved ? el("span", { class: "form-ok", dataset: { slot: "quote-saved", quoteId: String(q.saved.id) },
        text: I18N.t("adv.quote.saved", { pkg: I18N.t(`pkg.${q.saved.package}`), premium: Math.round(q.saved.premium).toLocaleString(), date: q.saved.valid_until }) }) : null),
    el("div", { class: "form-error", role: "alert", dataset: { slot: "quote-error" }, text: q.error || "" }));
    return section("quote", "adv.nav.quote", nodes);
  }

  // ---- contact log -----------------------------------------------------------------------------

  async function submitContact() {
    const ctx = state.ctx;
    const f = state.form;
    const t = currentTask();
    const body = { customer_id: ctx.customerId, channel: f.channel, outcome: f.outcome };
    if (ctx.vehicleId) body.vehicle_id = ctx.vehicleId;
    if (t) body.task_id = t.id;
    if (f.lapse_reason) body.lapse_reason = f.lapse_reason;
    if (f.lapse_reason === "price" && f.competitor_premium !== "") body.competitor_premium = Number(f.competitor_premium);
    if (f.note.trim()) body.note = f.note.trim();
    if (f.next_follow_up && !CLOSING.includes(f.outcome)) body.next_follow_up = f.next_follow_up;
    if (!f.outcome) { state.formMsg = { ok: false, text: `${I18N.t("adv.log.outcome")}?` }; renderDetail(); return; }
    const res = await call("/api/v1/contacts", { method: "POST", json: body });
    if (state.ctx !== ctx || res === null) return;
    if (!res.ok) { state.formMsg = { ok: false, text: errorText(res) }; renderDetail(); return; }
    const follow = res.body.follow_up;
    state.formMsg = { ok: true, text: follow ? I18N.t("adv.log.savedFollow", { date: follow.due_date }) : I18N.t("adv.log.saved") };
    state.form = { channel: f.channel, outcome: null, lapse_reason: null, competitor_premium: "", note: "", next_follow_up: "" };
    renderDetail();
    await loadTasks();
    if (state.file) loadFile(); // the new contact shows in the history
  }

  function logSection() {
    const ctx = state.ctx;
    if (!ctx.customerId) return section("log", "adv.nav.log", el("p", { class: "muted", text: I18N.t("fd.unknown.sub") }));
    const f = state.form;
    const rerender = () => { state.formMsg = null; renderDetail(); };
    const closing = CLOSING.includes(f.outcome);
    const nodes = [
      el("div", { class: "q-row" }, el("span", { class: "q-label", text: I18N.t("adv.log.channel") }),
        segmented("channel", CHANNELS, f.channel, (v) => { f.channel = v; rerender(); }, (v) => I18N.t(`contact.${v}`))),
      el("div", { class: "q-row" }, el("span", { class: "q-label", text: I18N.t("adv.log.outcome") }),
        segmented("outcome", OUTCOMES, f.outcome, (v) => {
          f.outcome = v;
          if (!["lost", "refused"].includes(v)) f.lapse_reason = null;
          rerender();
        }, (v) => I18N.t(`outcome.${v}`))),
    ];
    if (f.outcome === "lost" || f.outcome === "refused") {
      nodes.push(el("div", { class: "q-row" }, el("span", { class: "q-label", text: I18N.t("adv.log.reason") }),
        segmented("lapse_reason", REASONS, f.lapse_reason, (v) => { f.lapse_reason = f.lapse_reason === v ? null : v; rerender(); }, (v) => I18N.t(`lapse.${v}`))));
      if (f.lapse_reason === "price") {
        nodes.push(el("label", { class: "q-row" }, el("span", { class: "q-label", text: I18N.t("adv.log.rival") }),
          el("input", { class: "field", type: "number", min: "1", step: "1", inputmode: "numeric", name: "competitor_premium",
            value: f.competitor_premium, oninput: (ev) => { f.competitor_premium = ev.target.value; } })));
      }
    }
    if (closing) nodes.push(el("p", { class: "faint", text: I18N.t("adv.log.closing") }));
    else {
      const today = state.today || new Date().toLocaleDateString("sv");
      nodes.push(el("div", { class: "q-row" }, el("span", { class: "q-label", text: I18N.t("adv.log.followUp") }),
        el("input", { class: "field", type: "date", name: "next_follow_up", min: today, value: f.next_follow_up,
          oninput: (ev) => { f.next_follow_up = ev.target.value; } }),
        el("div", { class: "seg", role: "group" }, [1, 3, 7].map((n) => el("button", {
          type: "button", class: "seg__btn", dataset: { followIn: String(n) },
          "aria-pressed": String(f.next_follow_up === plusDays(today, n)),
          onclick: () => { f.next_follow_up = plusDays(today, n); rerender(); },
        }, I18N.t("adv.log.in", { n }))),
        el("button", { type: "button", class: "seg__btn", dataset: { followIn: "" }, "aria-pressed": String(!f.next_follow_up),
          onclick: () => { f.next_follow_up = ""; rerender(); } }, I18N.t("adv.log.clear")))));
    }
    nodes.push(el("label", { class: "q-row q-row--top" }, el("span", { class: "q-label", text: I18N.t("adv.log.note") }),
      el("textarea", { class: "field field--area", name: "note", maxlength: "500", rows: "2", placeholder: I18N.t("adv.log.notePh"),
        oninput: (ev) => { f.note = ev.target.value; } }, f.note)));
    const msg = state.formMsg;
    nodes.push(el("div", { class: "d-actions" },
      el("button", { class: "btn btn--primary btn--big", type: "button", dataset: { action: "save-contact" },
        text: I18N.t("adv.log.submit"), onclick: submitContact }),
      el("span", { class: msg && msg.ok ? "form-ok" : "form-error", role: "alert", dataset: { slot: "contact-msg", ok: msg ? String(msg.ok) : "" },
        text: msg ? msg.text : "" })));
    return section("log", "adv.nav.log", nodes);
  }

  function renderDetail() {
    const slot = document.querySelector("[data-slot=detail]");
    if (!state.ctx) {
      slot.replaceChildren(el("p", { class: "adv-placeholder muted", text: I18N.t("adv.select") }));
      return;
    }
    const scroll = slot.scrollTop;
    const known = !!state.ctx.customerId;
    slot.replaceChildren(...[header(), known ? nav() : null, taskBar(), talkSection(),
      known ? fileSection() : null, known ? quoteSection() : null, known ? logSection() : null].filter(Boolean));
    slot.scrollTop = scroll;
  }

  function render() { renderSide(); renderDetail(); }

  // ---- live updates --------------------------------------------------------------------------

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      arrivals.clear();
      (msg.data || []).forEach((a) => arrivals.set(a.event_id, a));
      if (!state.ctx && msg.data && msg.data.length) openArrival(msg.data[0].event_id, false);
      else render();
      refreshTasksSoon();
    } else if (msg.type === "arrival" && msg.data) {
      const a = msg.data;
      const isNew = !arrivals.has(a.event_id);
      arrivals.set(a.event_id, a);
      if (isNew) { fresh.add(a.event_id); DG.Chime.play(false); }
      if (!state.ctx) openArrival(a.event_id, false);
      else {
        renderSide();
        if (state.ctx.eventId === a.event_id) renderDetail(); // a correction of the car on screen
      }
      refreshTasksSoon(); // a known car's arrival opens (or refreshes) a task
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.mountStaffHeader();
    document.addEventListener("pointerdown", () => DG.Chime.unlock(), { once: true });
    document.querySelectorAll(".adv-tabs [data-tab]").forEach((b) => {
      b.addEventListener("click", () => { state.tab = b.dataset.tab; renderSide(); });
    });
    const setState = DG.connectionIndicator(document.querySelector("[data-slot=conn]"));
    new DG.LiveSocket("/ws/advisor", { onMessage, onState: setState, staff: true });
    I18N.onChange(render);
    loadTasks(); // again on every arrival and after every change made here (each listing is audited)
  });
})();
