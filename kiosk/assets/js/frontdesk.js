/* Front-desk screen: the newest arrival large, today's earlier ones in a list. Every arrival is
 * exactly one .arrival-card element carrying data-plate and data-event-id.
 * "已接待" posts the acknowledgement; the server stores it on the arrival, audits it and tells every
 * front-desk screen. The payload carries acknowledged_by / acknowledged_at, so a reloaded screen
 * shows it; the day's acknowledgements are also kept in localStorage (screens of older servers).
 * "更正车牌" (prominent on unknown and probable cards, small on the others) opens a dialog that posts
 * the right plate, or "not on file", to /api/v1/arrivals/{id}/match; the card then changes in place
 * when the server pushes the corrected arrival (same event_id). */
(function () {
  "use strict";
  const { el } = DG;
  const arrivals = new Map(); // event_id → payload
  const ACK_PREFIX = "dealergate.acks.";
  const ackKey = ACK_PREFIX + new Date().toLocaleDateString("sv"); // one key per local day (YYYY-MM-DD)
  const acks = loadAcks(); // event_id → { by, at }
  let newest = null; // event id to animate once

  function loadAcks() {
    try {
      Object.keys(localStorage).filter((k) => k.startsWith(ACK_PREFIX) && k !== ackKey)
        .forEach((k) => localStorage.removeItem(k)); // yesterday's are of no use
      return new Map(Object.entries(JSON.parse(localStorage.getItem(ackKey) || "{}")));
    } catch (e) { return new Map(); }
  }

  function remember(ack) {
    acks.set(ack.event_id, { by: ack.acknowledged_by, at: ack.acknowledged_at });
    try { localStorage.setItem(ackKey, JSON.stringify(Object.fromEntries(acks))); } catch (e) { /* private mode */ }
  }

  function ackOf(a) {
    return acks.get(a.event_id) || (a.acknowledged_at ? { by: a.acknowledged_by, at: a.acknowledged_at } : null);
  }

  async function acknowledge(a, button) {
    button.disabled = true;
    const res = await DG.api(`/api/v1/arrivals/${encodeURIComponent(a.event_id)}/ack`, { method: "POST" }).catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) {
      button.disabled = false;
      button.textContent = I18N.t("fd.ack.retry");
      return;
    }
    remember(res.body);
    render();
  }

  function ackControl(a, size) {
    const ack = ackOf(a);
    if (ack) {
      return el("span", { class: `ack ack--done ack--${size}`, dataset: { ack: "done" },
        text: I18N.t(size === "s" ? "fd.ack.doneShort" : "fd.ack.done", { who: ack.by || "", time: DG.timeHM(ack.at) }) });
    }
    const button = el("button", { class: `btn btn--primary ack ack--${size}`, type: "button", dataset: { action: "ack" },
      text: I18N.t("fd.ack") });
    button.addEventListener("click", () => acknowledge(a, button));
    return button;
  }

  /* ---------- correcting the plate ---------- */
  const PLATE_MAX = 16; // the match endpoint's limit (MatchCorrection.plate max_length)
  const PLATE_SEPARATORS = /[ ·•.\-_\u3000]/g; // server.matching.normalize_plate strips these

  /** The plate as the server will look it up: no separators, upper case. */
  function normalizePlate(text) {
    return String(text || "").replace(PLATE_SEPARATORS, "").toUpperCase();
  }

  /** The server's rule for a typed plate: at most 16 characters, something left once normalised. */
  function plateProblem(raw) {
    if (raw.length > PLATE_MAX) return I18N.t("fd.correct.tooLong", { n: PLATE_MAX });
    if (!normalizePlate(raw)) return I18N.t("fd.correct.empty");
    return null;
  }

  function errorText(res) {
    const detail = res && res.body && res.body.detail;
    if (typeof detail === "string") return detail; // the server's own words: 车牌 X 未建档 / no vehicle …
    if (Array.isArray(detail) && detail.length && detail[0].msg) return detail[0].msg;
    return I18N.t("fd.correct.failed");
  }

  function needsCheck(a) {
    return !a.known || a.match === "probable";
  }

  function correctControl(a, size) {
    const strong = needsCheck(a);
    return el("button", {
      class: `btn correct-btn correct-btn--${size}${strong ? " correct-btn--strong" : ""}`, type: "button",
      dataset: { action: "correct" }, text: I18N.t("fd.correct"),
      onclick: () => openCorrection(a.event_id),
    });
  }

  function openCorrection(eventId) {
    const a = arrivals.get(eventId);
    if (!a) return;
    document.querySelectorAll("dialog.fd-correct").forEach((d) => d.remove());
    const input = el("input", {
      class: "fd-correct__input", type: "text", name: "plate", id: "fd-correct-plate", maxlength: PLATE_MAX,
      autocomplete: "off", autocapitalize: "characters", spellcheck: "false", inputmode: "text",
      value: a.plate, "aria-describedby": "fd-correct-error",
    });
    const error = el("p", { class: "fd-correct__error", id: "fd-correct-error", role: "alert", dataset: { slot: "correct-error" } });
    const submit = el("button", { class: "btn btn--primary fd-correct__btn", type: "submit", dataset: { action: "correct-submit" },
      text: I18N.t("fd.correct.submit") });
    const none = el("button", { class: "btn fd-correct__btn fd-correct__none", type: "button", dataset: { action: "correct-none" },
      text: I18N.t("fd.correct.none") });
    const cancel = el("button", { class: "btn btn--ghost fd-correct__btn", type: "button", dataset: { action: "correct-cancel" },
      text: I18N.t("fd.correct.cancel") });
    const alternatives = (a.match_alternatives || []).map((plate) => el("button", {
      class: "btn fd-correct__alt", type: "button", dataset: { action: "correct-alt", plate },
      onclick: () => { input.value = plate; error.textContent = ""; send(plate); },
    }, DG.plateBadge(plate, a.plate_color, a.plate_type, "s")));
    const form = el("form", { class: "fd-correct__form", method: "dialog", novalidate: true },
      el("h2", { class: "fd-correct__title", id: "fd-correct-title", text: I18N.t("fd.correct.title") }),
      el("div", { class: "fd-correct__read" },
        el("span", { class: "fd-correct__label", text: I18N.t("fd.correct.read") }),
        DG.plateBadge(a.plate, a.plate_color, a.plate_type, "s")),
      el("label", { class: "fd-correct__label", for: "fd-correct-plate", text: I18N.t("fd.correct.label") }),
      input,
      el("p", { class: "fd-correct__hint muted", text: I18N.t(alternatives.length ? "fd.correct.hint" : "fd.correct.hintType") }),
      error,
      alternatives.length
        ? el("div", { class: "fd-correct__alts" },
          el("div", { class: "fd-correct__label", text: I18N.t("fd.correct.alternatives") }), alternatives)
        : null,
      el("div", { class: "fd-correct__actions" }, none, cancel, submit));
    const dialog = el("dialog", { class: "fd-correct", "aria-labelledby": "fd-correct-title", dataset: { eventId } }, form);
    const buttons = () => dialog.querySelectorAll("button");

    async function send(plate) {
      buttons().forEach((b) => { b.disabled = true; });
      const idle = submit.textContent;
      submit.textContent = I18N.t("fd.correct.saving");
      const res = await DG.api(`/api/v1/arrivals/${encodeURIComponent(eventId)}/match`,
        { method: "POST", json: { plate } }).catch(() => null);
      if (res && res.status === 401) { DG.toLogin(); return; }
      buttons().forEach((b) => { b.disabled = false; });
      submit.textContent = idle;
      if (!res || !res.ok) {
        error.textContent = errorText(res);
        input.focus();
        return;
      }
      dialog.close();
      // the screens get the corrected arrival pushed; until it comes, the answer is the same arrival
      const fixed = res.body && res.body.arrival;
      if (fixed && fixed.event_id === eventId) arrivals.set(eventId, fixed);
      render();
    }

    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const problem = plateProblem(input.value);
      if (problem) { error.textContent = problem; input.focus(); return; }
      send(normalizePlate(input.value));
    });
    input.addEventListener("input", () => { error.textContent = ""; });
    none.addEventListener("click", () => send(null));
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
    input.select();
  }

  function sorted() {
    return [...arrivals.values()].sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1));
  }

  function customerName(a) {
    if (!a.known) return I18N.t("fd.unknown");
    return a.customer ? a.customer.honorific : "—";
  }

  function carLine(a) {
    if (!a.vehicle) return I18N.t("fd.unknown.sub");
    const advisor = a.routing && a.routing.advisor ? ` · ${a.routing.advisor.name}` : "";
    return `${a.vehicle.brand} ${a.vehicle.model}${advisor}`;
  }

  function tierChip(a) {
    const key = DG.tierKey(a.policy);
    if (!a.known) return null;
    let text;
    if (key === "unknown") text = I18N.t("fd.noPolicy");
    else if (key === "expired") text = `${I18N.t("fd.expired")} ${-a.policy.days_to_expiry} ${I18N.t("fd.days")}`;
    else text = `${a.policy.days_to_expiry} ${I18N.t("fd.days")}`;
    return el("span", { class: `chip chip--tier tier-${key}`, text });
  }

  function countdown(a) {
    const key = DG.tierKey(a.policy);
    if (key === "unknown") {
      return el("div", { class: "fa-countdown" }, el("span", { class: "fa-countdown__text", text: I18N.t("fd.noPolicy") }));
    }
    const days = a.policy.days_to_expiry;
    if (key === "expired") {
      return el("div", { class: "fa-countdown" },
        el("span", { class: "fa-countdown__text", text: I18N.t("fd.expired") }),
        el("span", { class: "fa-countdown__n", text: String(-days) }),
        el("span", { class: "fa-countdown__u", text: I18N.t("fd.days") }));
    }
    return el("div", { class: "fa-countdown" },
      el("span", { class: "fa-countdown__n", text: String(days) }),
      el("span", { class: "fa-countdown__u", text: I18N.t("fd.days") }));
  }

  function featured(a) {
    const key = a.known ? DG.tierKey(a.policy) : "unknown";
    const card = el("article", {
      class: `arrival-card arrival-card--featured tier-${key}${a.event_id === newest ? " is-new" : ""}`,
      dataset: { plate: a.plate, eventId: a.event_id, known: String(a.known) },
    });
    const meta = el("div", { class: "fa-meta" },
      el("strong", { text: DG.timeHM(a.captured_at) }), `${I18N.t("fd.camera")} ${a.camera}`,
      el("div", { class: "fa-correct" }, correctControl(a, "l")));
    const crop = a.crop_url || (a.crop_jpeg_b64 ? `data:image/jpeg;base64,${a.crop_jpeg_b64}` : null);
    const head = el("div", { class: "fa-head" }, DG.plateBadge(a.plate, a.plate_color, a.plate_type, "xl"),
      crop ? el("img", { class: "fa-crop", alt: I18N.t("fd.crop"), src: crop }) : null,
      meta);
    const badges = el("div", { class: "fa-badges" },
      a.grade ? el("span", { class: `grade grade--${a.grade}`, title: I18N.t(`grade.${a.grade}`), text: a.grade }) : null,
      a.segment ? el("span", { class: "chip", text: I18N.pick(a.segment) }) : null,
      tierChip(a),
      DG.siteBadge(a));
    const who = el("div", { class: "fa-who" },
      el("div", { class: `fa-name${a.known ? "" : " fa-name--unknown"}`, text: customerName(a) }), badges);
    const car = a.vehicle
      ? el("div", { class: "fa-car" }, el("b", { text: `${a.vehicle.brand} ${a.vehicle.model}` }), `  ${a.vehicle.series || ""}`)
      : el("div", { class: "fa-car", text: I18N.t("fd.unknown.sub") });
    card.append(head);
    if (a.match_note) card.append(el("div", { class: "fa-warn", role: "note", text: I18N.pick(a.match_note) }));
    card.append(who, car);
    if (a.known) {
      card.append(el("div", { class: "fa-grid" },
        el("div", { class: "fa-box" }, el("div", { class: "fa-box__label", text: I18N.t("fd.expiry") }), countdown(a)),
        el("div", { class: "fa-box" }, facts(a))));
    }
    card.append(el("div", { class: "fa-action" },
      el("div", { class: "fa-action__body" },
        el("div", { class: "fa-action__label", text: I18N.t("fd.nextAction") }),
        el("div", { class: "fa-action__text", text: I18N.pick(a.next_action) })),
      ackControl(a, "l")));
    return card;
  }

  /** Policy, who serves, today's appointment and open reminders; each row only when the payload has it. */
  function facts(a) {
    const rows = [];
    const add = (key, value, cls) => rows.push(el("dt", { text: I18N.t(key) }), el("dd", { class: cls || null, text: value }));
    if (a.policy) {
      add("fd.insurer", `${a.policy.insurer} · ${I18N.t(`channel.${a.policy.channel}`)}`);
    }
    const routing = a.routing;
    if (routing) {
      add("fd.advisor", routing.advisor ? routing.advisor.name : I18N.t("fd.advisor.any"), "fa-advisor");
      add("fd.lane", I18N.pick(routing));
    }
    if (a.appointment) {
      const kind = I18N.has(`appt.${a.appointment.kind}`) ? I18N.t(`appt.${a.appointment.kind}`) : a.appointment.kind;
      add("fd.appointment", `${DG.timeHM(a.appointment.at)} · ${kind}`, "fa-appointment");
    }
    if (a.open_tasks && a.open_tasks.length) add("fd.openTasks", I18N.t("fd.openTasks.n", { n: a.open_tasks.length }));
    if (a.grade) add("fd.grade", I18N.t(`grade.${a.grade}`));
    return el("dl", { class: "fa-facts" }, rows);
  }

  function compact(a) {
    const key = a.known ? DG.tierKey(a.policy) : "unknown";
    return el("li", {
      class: `arrival-card arrival-card--compact tier-${key}${ackOf(a) ? " is-acked" : ""}`,
      dataset: { plate: a.plate, eventId: a.event_id, known: String(a.known) },
    },
    DG.plateBadge(a.plate, a.plate_color, a.plate_type, "s"),
    el("div", { class: "ac-main" },
      el("div", { class: `ac-name${a.known ? "" : " ac-name--unknown"}`, text: customerName(a) }),
      el("div", { class: "ac-sub", text: carLine(a) })),
    el("div", { class: "ac-side" }, DG.siteBadge(a, true), tierChip(a), el("span", { class: "ac-time", text: DG.relTime(a.captured_at) })),
    el("div", { class: "ac-ack" }, ackControl(a, "s"), correctControl(a, "s")));
  }

  function render() {
    const list = sorted();
    const slot = document.querySelector("[data-slot=featured]");
    const waiting = document.querySelector("[data-slot=waiting]");
    slot.querySelectorAll(".arrival-card").forEach((n) => n.remove());
    waiting.classList.toggle("hidden", list.length > 0);
    if (list.length) slot.append(featured(list[0]));
    document.querySelector("[data-slot=feed]").replaceChildren(...list.slice(1).map(compact));
    const known = list.filter((a) => a.known).length;
    document.querySelector("[data-slot=count-all]").textContent = String(list.length);
    document.querySelector("[data-slot=count-known]").textContent = String(known);
    document.querySelector("[data-slot=count-new]").textContent = String(list.length - known);
    document.querySelector("[data-slot=count-waiting]").textContent = String(list.filter((a) => !ackOf(a)).length);
  }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      arrivals.clear();
      (msg.data || []).forEach((a) => arrivals.set(a.event_id, a));
      newest = null;
      render();
    } else if (msg.type === "arrival" && msg.data) {
      const a = msg.data;
      const fresh = !arrivals.has(a.event_id);
      arrivals.set(a.event_id, a);
      if (fresh) {
        newest = a.event_id;
        const key = a.known ? DG.tierKey(a.policy) : "unknown";
        DG.Chime.play(key === "expired" || key === "30");
      }
      render();
    } else if (msg.type === "ack" && msg.data) {
      remember(msg.data);
      render();
    }
  }

  function mountSound() {
    const btn = document.querySelector("[data-action=sound]");
    const sync = () => {
      btn.dataset.i18n = DG.Chime.ready() ? "sound.on" : "sound.enable";
      btn.textContent = I18N.t(btn.dataset.i18n);
    };
    btn.addEventListener("click", async () => { await DG.Chime.unlock(); sync(); DG.Chime.play(false); });
    // Any click on the screen unlocks audio too (browsers require a gesture).
    document.addEventListener("pointerdown", () => DG.Chime.unlock().then(sync), { once: true });
    sync();
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.startClock(document.querySelector("[data-slot=clock]"));
    DG.mountStaffHeader();
    mountSound();
    const setState = DG.connectionIndicator(document.querySelector("[data-slot=conn]"));
    new DG.LiveSocket("/ws/frontdesk", { onMessage, onState: setState, staff: true });
    I18N.onChange(() => { newest = null; render(); });
    setInterval(() => { newest = null; render(); }, 30000);
  });
})();
