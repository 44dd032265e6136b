/* Kiosk content (等候区内容), managers and admins: write, order, schedule and switch on/off the
 * cards the waiting-area kiosk shows (/api/v1/kiosk-cards). The server validates; its 422 messages
 * are shown next to the field they name. Cards are public text: never customer data. */
(function () {
  "use strict";
  const { el } = DG;
  const FIELDS = ["kind", "title_zh", "title_en", "body_zh", "body_en", "brand", "plate_type", "starts_on", "ends_on"];
  const CHECKS = ["in_loop", "on_arrival", "active"];
  let cards = [];
  let editing = null; // id of the card in the form, null for a new one

  const form = () => document.querySelector("[data-slot=form]");
  const status = (text) => { document.querySelector("[data-slot=status]").textContent = text || ""; };

  function clearErrors() {
    form().querySelectorAll("[data-err]").forEach((n) => { n.textContent = ""; });
    form().querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }

  function openForm(card) {
    editing = card ? card.id : null;
    const f = form();
    f.reset();
    clearErrors();
    FIELDS.forEach((name) => { f.elements[name].value = card && card[name] != null ? card[name] : (name === "kind" ? "offer" : ""); });
    CHECKS.forEach((name) => { f.elements[name].checked = card ? card[name] : name !== "on_arrival"; });
    f.querySelector("[data-slot=form-title]").textContent = I18N.t(card ? "kc.edit" : "kc.new");
    f.dataset.cardId = card ? String(card.id) : "";
    f.classList.remove("hidden");
    f.elements.title_zh.focus();
  }

  function closeForm() { form().classList.add("hidden"); editing = null; }

  function body() {
    const f = form();
    const out = {};
    FIELDS.forEach((name) => {
      const v = f.elements[name].value.trim();
      out[name] = v === "" && ["brand", "plate_type", "starts_on", "ends_on"].includes(name) ? null : v;
    });
    CHECKS.forEach((name) => { out[name] = f.elements[name].checked; });
    return out;
  }

  function showErrors(detail) {
    clearErrors();
    const list = Array.isArray(detail) ? detail : [{ loc: ["body"], msg: String(detail || "") }];
    list.forEach((e) => {
      const field = e.loc && e.loc.length > 1 ? e.loc[e.loc.length - 1] : "form";
      const slot = form().querySelector(`[data-err="${CSS.escape(String(field))}"]`) || form().querySelector("[data-err=form]");
      slot.textContent = `${slot.textContent ? `${slot.textContent} ` : ""}${e.msg.replace(/^Value error, /, "")}`;
      const input = form().elements[field];
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    });
    status(I18N.t("kc.error"));
  }

  async function save(ev) {
    ev.preventDefault();
    const id = editing;
    const res = await DG.api(id ? `/api/v1/kiosk-cards/${id}` : "/api/v1/kiosk-cards",
      { method: id ? "PATCH" : "POST", json: body() }).catch(() => null);
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) { showErrors(res && res.body ? res.body.detail : ""); return; }
    closeForm();
    status(I18N.t("kc.saved"));
    await load();
  }

  async function patch(card, changes) {
    const res = await DG.api(`/api/v1/kiosk-cards/${card.id}`, { method: "PATCH", json: changes }).catch(() => null);
    if (res && res.ok) await load();
    else status(I18N.t("kc.error"));
  }

  async function move(index, delta) {
    const ids = cards.map((c) => c.id);
    const j = index + delta;
    if (j < 0 || j >= ids.length) return;
    [ids[index], ids[j]] = [ids[j], ids[index]];
    const res = await DG.api("/api/v1/kiosk-cards/order", { method: "PUT", json: { ids } }).catch(() => null);
    if (res && res.ok) { cards = res.body.cards; render(); } else status(I18N.t("kc.error"));
  }

  async function remove(card) {
    if (!window.confirm(I18N.t("kc.delete.confirm"))) return;
    const res = await DG.api(`/api/v1/kiosk-cards/${card.id}`, { method: "DELETE" }).catch(() => null);
    if (res && res.ok) await load();
    else status(I18N.t("kc.error"));
  }

  function tag(text, kind) { return el("span", { class: `kc-tag${kind ? ` kc-tag--${kind}` : ""}`, text }); }

  function row(card, index) {
    const state = !card.active ? ["kc.off", "off"] : card.live ? ["kc.live", "live"] : ["kc.scheduled", "off"];
    const dates = card.starts_on || card.ends_on ? `${card.starts_on || "…"} – ${card.ends_on || "…"}` : null;
    const target = [card.brand, card.plate_type ? I18N.t(`plate.type.${card.plate_type}`) : null].filter(Boolean).join(" · ");
    const btn = (key, action, fn, disabled) => el("button", { class: "btn", type: "button", text: I18N.t(key),
      dataset: { action }, disabled: disabled ? "" : null, onclick: fn });
    return el("article", { class: `panel kc-card${card.live ? "" : " kc-card--off"}`, dataset: { cardId: String(card.id), live: String(card.live) } },
      el("div", {},
        el("h3", { text: I18N.lang === "en" ? (card.title_en || card.title_zh) : card.title_zh }),
        el("p", { class: "muted", text: I18N.lang === "en" ? (card.body_en || card.body_zh) : card.body_zh }),
        el("div", { class: "kc-meta" },
          tag(I18N.t(state[0]), state[1]), tag(I18N.t(`kcard.kind.${card.kind}`)),
          card.in_loop ? tag(I18N.t("kc.where.loop")) : null, card.on_arrival ? tag(I18N.t("kc.where.arrival")) : null,
          tag(target || I18N.t("kc.any")), dates ? tag(dates) : null)),
      el("div", { class: "kc-btns" },
        btn("kc.up", "up", () => move(index, -1), index === 0),
        btn("kc.down", "down", () => move(index, 1), index === cards.length - 1),
        el("label", { class: "btn kc-toggle" },
          el("input", { type: "checkbox", dataset: { action: "toggle" }, checked: card.active ? "" : null,
            onchange: (ev) => patch(card, { active: ev.target.checked }) }),
          el("span", { text: I18N.t("kc.f.active") })),
        btn("kc.edit", "edit", () => openForm(card)),
        btn("kc.delete", "delete", () => remove(card))));
  }

  function render() {
    const list = document.querySelector("[data-slot=list]");
    list.replaceChildren(...(cards.length ? cards.map(row) : [el("p", { class: "panel muted", text: I18N.t("kc.empty") })]));
    document.body.dataset.ready = "true";
  }

  const startLoad = DG.newestOnly();

  async function load() {
    const current = startLoad();
    const res = await DG.api("/api/v1/kiosk-cards").catch(() => null);
    if (!current()) return; // a later edit's reload is on its way
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (!res || !res.ok) { status(I18N.t("kc.loadError")); return; }
    cards = res.body.cards;
    document.querySelector("[data-slot=brands]").replaceChildren(...res.body.brands.map((b) => el("option", { value: b })));
    render();
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.mountStaffHeader();
    document.querySelector("[data-action=new]").addEventListener("click", () => openForm(null));
    document.querySelector("[data-action=cancel]").addEventListener("click", closeForm);
    form().addEventListener("submit", save);
    I18N.onChange(() => {
      render();
      const f = form();
      f.querySelector("[data-slot=form-title]").textContent = I18N.t(f.dataset.cardId ? "kc.edit" : "kc.new");
    });
    load();
  });
})();
