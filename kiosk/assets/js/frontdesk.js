/* Front-desk screen: the newest arrival large, today's earlier ones in a list. Every arrival is
 * exactly one .arrival-card element carrying data-plate and data-event-id. */
(function () {
  "use strict";
  const { el } = DG;
  const arrivals = new Map(); // event_id → payload
  let newest = null; // event id to animate once

  function sorted() {
    return [...arrivals.values()].sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1));
  }

  function customerName(a) {
    if (!a.known) return I18N.t("fd.unknown");
    return a.customer ? a.customer.honorific : "—";
  }

  function carLine(a) {
    if (!a.vehicle) return I18N.t("fd.unknown.sub");
    return `${a.vehicle.brand} ${a.vehicle.model}`;
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
      el("strong", { text: DG.timeHM(a.captured_at) }), `${I18N.t("fd.camera")} ${a.camera}`);
    const head = el("div", { class: "fa-head" }, DG.plateBadge(a.plate, a.plate_color, a.plate_type, "xl"),
      a.crop_jpeg_b64 ? el("img", { class: "fa-crop", alt: "", src: `data:image/jpeg;base64,${a.crop_jpeg_b64}` }) : null,
      meta);
    const badges = el("div", { class: "fa-badges" },
      a.grade ? el("span", { class: `grade grade--${a.grade}`, title: I18N.t(`grade.${a.grade}`), text: a.grade }) : null,
      a.segment ? el("span", { class: "chip", text: I18N.pick(a.segment) }) : null,
      tierChip(a));
    const who = el("div", { class: "fa-who" },
      el("div", { class: `fa-name${a.known ? "" : " fa-name--unknown"}`, text: customerName(a) }), badges);
    const car = a.vehicle
      ? el("div", { class: "fa-car" }, el("b", { text: `${a.vehicle.brand} ${a.vehicle.model}` }), `  ${a.vehicle.series || ""}`)
      : el("div", { class: "fa-car", text: I18N.t("fd.unknown.sub") });
    card.append(head, who, car);
    if (a.known) {
      const facts = el("dl", { class: "fa-facts" });
      if (a.policy) {
        facts.append(el("dt", { text: I18N.t("fd.insurer") }), el("dd", { text: a.policy.insurer }),
          el("dt", { text: I18N.t("adv.col.channel") }), el("dd", { text: I18N.t(`channel.${a.policy.channel}`) }));
      }
      if (a.grade) facts.append(el("dt", { text: I18N.t("fd.grade") }), el("dd", { text: I18N.t(`grade.${a.grade}`) }));
      card.append(el("div", { class: "fa-grid" },
        el("div", { class: "fa-box" }, el("div", { class: "fa-box__label", text: I18N.t("fd.expiry") }), countdown(a)),
        el("div", { class: "fa-box" }, facts)));
    }
    card.append(el("div", { class: "fa-action" },
      el("div", { class: "fa-action__label", text: I18N.t("fd.nextAction") }),
      el("div", { class: "fa-action__text", text: I18N.pick(a.next_action) })));
    return card;
  }

  function compact(a) {
    const key = a.known ? DG.tierKey(a.policy) : "unknown";
    return el("li", {
      class: `arrival-card arrival-card--compact tier-${key}`,
      dataset: { plate: a.plate, eventId: a.event_id, known: String(a.known) },
    },
    DG.plateBadge(a.plate, a.plate_color, a.plate_type, "s"),
    el("div", { class: "ac-main" },
      el("div", { class: `ac-name${a.known ? "" : " ac-name--unknown"}`, text: customerName(a) }),
      el("div", { class: "ac-sub", text: carLine(a) })),
    el("div", { class: "ac-side" }, tierChip(a), el("span", { class: "ac-time", text: DG.relTime(a.captured_at) })));
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
