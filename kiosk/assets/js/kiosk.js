/* Waiting-area kiosk: an attract loop, interrupted for a while by content for the arriving car.
 * It only ever receives the kiosk payload (masked plate, region, model, content keys): nothing
 * personal. The one exception is a greeting by name, shown only when the payload itself says the
 * customer consented (consent_greeting === true). Landscape and portrait screens: kiosk.css. */
(function () {
  "use strict";
  const { el } = DG;
  const params = new URLSearchParams(window.location.search);
  // how long each attract slide stays; ?slide_s= for trials and tests (1 s to 60 s)
  const SLIDE_MS = Math.min(60, Math.max(1, Number(params.get("slide_s")) || 9)) * 1000;
  const token = params.get("token") || "";
  // how long an arrival stays before the loop resumes; ?welcome_s= for trials and tests (3 s to 10 min)
  const WELCOME_MS = Math.min(600, Math.max(3, Number(params.get("welcome_s")) || 25)) * 1000;
  const EXTRAS_REFRESH_MS = 3600 * 1000;
  const CARDS_REFRESH_MS = 5 * 60 * 1000; // the managers' content cards (GET /api/v1/kiosk/cards)
  let catalog = { packages: [], seasonal_offer: "value_services" };
  let extras = { self_service_url: null, region_claims: {} };
  let cards = []; // today's content cards, in the managers' order: authored text, nothing personal
  let slideIndex = 0;
  let slideTimer = null;
  let welcomeTimer = null;
  let current = null; // kiosk payload being shown
  const seen = new Set();

  /** The self-service QR code, drawn on a canvas by the vendored qrcode-generator (no network). */
  function qrCode(url, px) {
    const qr = qrcode(0, "M");
    qr.addData(url);
    qr.make();
    const quiet = 4; // modules of white border the standard asks for
    const n = qr.getModuleCount() + quiet * 2;
    const scale = Math.max(2, Math.floor(px / n));
    const canvas = el("canvas", { class: "qr", width: n * scale, height: n * scale, role: "img",
      "aria-label": I18N.t("kiosk.qr.alt"), dataset: { url } });
    const g = canvas.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = "#000";
    for (let r = 0; r < n - quiet * 2; r += 1) {
      for (let c = 0; c < n - quiet * 2; c += 1) {
        if (qr.isDark(r, c)) g.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
      }
    }
    return canvas;
  }

  function selfService(px) {
    const url = extras.self_service_url;
    return el("section", { class: "k-panel self", dataset: { slot: "self-service" } },
      el("h2", { text: I18N.t("kiosk.selfservice") }),
      url ? el("div", { class: "self__qr" }, qrCode(url, px), el("p", { text: I18N.t("kiosk.qr.scan") }))
        : el("p", { text: I18N.t("kiosk.selfservice.sub") }));
  }

  function slides() {
    const offer = catalog.seasonal_offer;
    const list = [
      () => el("div", { class: "slide" },
        el("div", { class: "slide__kicker", text: I18N.t("kiosk.welcome") }),
        el("h1", { class: "slide__title", text: I18N.t("attract.gifts") }),
        el("ul", { class: "ticks" }, [1, 2, 3, 4].map((i) => el("li", { text: I18N.t(`attract.gifts.${i}`) })))),
      () => el("div", { class: "slide" },
        el("div", { class: "slide__kicker", text: I18N.t("kiosk.selfservice") }),
        el("h1", { class: "slide__title", text: I18N.t(`offer.${offer}`) }),
        el("p", { class: "slide__sub", text: I18N.t(`offer.${offer}.sub`) })),
      () => el("div", { class: "slide slide--wide" },
        el("h1", { class: "slide__title", text: I18N.t("kiosk.packages") }), packageTable(null)),
      () => el("div", { class: "slide" },
        el("div", { class: "slide__kicker", text: I18N.t("kiosk.selfservice") }),
        el("h1", { class: "slide__title", text: I18N.t("attract.claims") }),
        el("ul", { class: "ticks" }, [1, 2, 3].map((i) => el("li", { text: I18N.t(`attract.claims.${i}`) })))),
      () => el("div", { class: "slide" },
        el("h1", { class: "slide__title", text: I18N.t("attract.daily") }),
        el("p", { class: "slide__sub", text: I18N.t("attract.daily.sub") }),
        el("p", { class: "slide__sub", text: I18N.t("kiosk.selfservice.sub") })),
    ];
    cards.filter((c) => c.in_loop).forEach((c) => list.push(() => el("div", {
      class: `slide slide--card kcard--${c.kind}`, dataset: { cardId: String(c.id) } },
    el("div", { class: "slide__kicker", text: I18N.t(`kcard.kind.${c.kind}`) }),
    el("h1", { class: "slide__title", text: I18N.pick(c.title) }),
    el("p", { class: "slide__sub", text: I18N.pick(c.body) }))));
    if (extras.self_service_url) {
      list.push(() => el("div", { class: "slide slide--qr" },
        el("div", { class: "slide__kicker", text: I18N.t("kiosk.selfservice") }),
        el("h1", { class: "slide__title", text: I18N.t("kiosk.qr.title") }),
        el("p", { class: "slide__sub", text: I18N.t("kiosk.selfservice.sub") }),
        qrCode(extras.self_service_url, 360)));
    }
    return list;
  }

  function packageTable(recommended) {
    return el("div", { class: "pkg-table" }, catalog.packages.map((p) => el("div", {
      class: `pkg${p.key === recommended ? " pkg--rec" : ""}`, dataset: { package: p.key },
    },
    p.key === recommended ? el("span", { class: "chip chip--tier tier-none pkg__rec", text: I18N.t("kiosk.recommended") }) : null,
    el("h3", { text: I18N.pick(p) }),
    el("p", { text: I18N.t(`pkg.${p.key}.for`) }),
    el("ul", {}, p.coverages.map((c) => el("li", { text: I18N.t(`cover.${c}`) }))))));
  }

  function showSlide() {
    const list = slides();
    slideIndex %= list.length;
    const stage = document.querySelector("[data-slot=attract]");
    const node = list[slideIndex]();
    stage.replaceChildren(node);
    requestAnimationFrame(() => requestAnimationFrame(() => node.classList.add("on")));
    document.querySelector("[data-slot=dots]").replaceChildren(
      ...list.map((_, i) => el("i", { class: i === slideIndex ? "on" : "" })));
  }

  function startLoop() {
    clearInterval(slideTimer);
    showSlide();
    slideTimer = setInterval(() => { if (!current) { slideIndex += 1; showSlide(); } }, SLIDE_MS);
  }

  /** "Welcome", or "王先生，欢迎光临" when — and only when — the payload says the customer consented. */
  function greeting(k) {
    const name = k.consent_greeting === true && k.greeting
      ? (typeof k.greeting === "string" ? k.greeting : I18N.pick(k.greeting)) : "";
    return name ? I18N.t("kiosk.welcome.name", { name }) : I18N.t("kiosk.welcome");
  }

  function regionPanel(k) {
    const mix = k.region && extras.region_claims[k.region];
    if (!mix) return null;
    return el("section", { class: "k-panel region", dataset: { slot: "region" } },
      el("h2", { text: I18N.t("kiosk.region", { region: k.region }) }),
      el("ol", { class: "bars" }, mix.top.map((t) => el("li", {},
        el("span", { class: "bars__t", text: I18N.t(`claim.${t.type}`) }),
        el("span", { class: "bars__bar" }, el("i", { dataset: { share: String(t.share) } })),
        el("span", { class: "bars__n", text: `${Math.round(t.share * 100)}%` })))),
      el("p", { class: "faint", text: I18N.t("kiosk.region.note", { n: mix.claims }) }));
  }

  /** The first card the arrival's payload names (targeted ones come first), as a panel: one fits. */
  function cardPanels(k) {
    const ids = (k.content && Array.isArray(k.content.cards)) ? k.content.cards : [];
    return ids.map((id) => cards.find((c) => c.id === id)).filter(Boolean).slice(0, 1).map((c) =>
      el("section", { class: "k-panel kcard", dataset: { cardId: String(c.id) } },
        el("div", { class: "kcard__kicker", text: I18N.t(`kcard.kind.${c.kind}`) }),
        el("h2", { text: I18N.pick(c.title) }),
        el("p", { text: I18N.pick(c.body) })));
  }

  function welcome(k) {
    const topics = k.content.claim_topics.length ? k.content.claim_topics : ["scratch", "glass", "rear_end"];
    const model = k.model ? `${k.brand} ${k.model}` : null;
    const card = el("article", { class: "arrival-card welcome__card", dataset: { plate: k.masked_plate, eventId: k.event_id } },
      el("div", { class: "welcome__head" },
        DG.plateBadge(k.masked_plate, k.plate_color, null, "xl"),
        el("div", {},
          el("h1", { class: "welcome__title", text: greeting(k) }),
          el("p", { class: "welcome__sub", text: I18N.t("kiosk.welcome.sub") })),
        model ? el("div", { class: "welcome__car" }, el("b", { text: model })) : null),
      el("div", { class: "welcome__left" },
        el("section", { class: "k-panel claims-panel" },
          el("h2", { text: model ? I18N.t("kiosk.claims.title", { model }) : I18N.t("kiosk.claims.generic") }),
          el("ol", { class: "claims" }, topics.map((t, i) => el("li", {},
            el("span", { class: "claims__n", text: String(i + 1) }),
            el("span", { class: "claims__t", text: I18N.t(`claim.${t}`) }),
            el("span", { class: "claims__d", text: I18N.t(`claimtip.${t}`) }))))),
        ...cardPanels(k)),
      el("div", { class: "welcome__mid" },
        regionPanel(k),
        el("section", { class: "k-panel offer" },
          el("h2", { text: I18N.t(`offer.${k.content.seasonal_offer}`) }),
          el("p", { text: I18N.t(`offer.${k.content.seasonal_offer}.sub`) }))),
      selfService(220),
      el("section", { class: "welcome__pkgs" }, packageTable(k.content.package)));
    card.querySelectorAll(".bars__bar i").forEach((bar) => { bar.style.width = `${Number(bar.dataset.share) * 100}%`; });
    return card;
  }

  function render() {
    const attract = document.querySelector("[data-slot=attract]");
    const box = document.querySelector("[data-slot=welcome]");
    if (current) {
      box.replaceChildren(welcome(current));
      box.classList.remove("hidden");
      attract.classList.add("hidden");
    } else {
      box.replaceChildren();
      box.classList.add("hidden");
      attract.classList.remove("hidden");
      showSlide();
    }
  }

  function show(k) {
    current = k;
    const wanted = (k.content && Array.isArray(k.content.cards)) ? k.content.cards : [];
    if (wanted.some((id) => !cards.some((c) => c.id === id))) {
      loadCards().then(() => { if (current === k) render(); }); // a card written since the last load
    }
    if (k.content && k.content.seasonal_offer) catalog.seasonal_offer = k.content.seasonal_offer;
    render();
    clearTimeout(welcomeTimer);
    welcomeTimer = setTimeout(() => { current = null; render(); }, WELCOME_MS);
  }

  function onMessage(msg) {
    if (msg.type === "snapshot") {
      (msg.data || []).forEach((k) => seen.add(k.event_id)); // history is not re-announced
    } else if (msg.type === "arrival" && msg.data && !seen.has(msg.data.event_id)) {
      seen.add(msg.data.event_id);
      show(msg.data);
    }
  }

  async function loadExtras() {
    const res = await DG.api(`/api/v1/kiosk/extras?token=${encodeURIComponent(token)}`).catch(() => null);
    if (res && res.ok) extras = res.body;
  }

  async function loadCards() {
    const res = await DG.api(`/api/v1/kiosk/cards?token=${encodeURIComponent(token)}`).catch(() => null);
    if (res && res.ok) cards = res.body.cards;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    DG.startClock(document.querySelector("[data-slot=clock]"));
    const [res] = await Promise.all([
      DG.api(`/api/v1/kiosk/catalog?token=${encodeURIComponent(token)}`).catch(() => null), loadExtras(), loadCards()]);
    if (res && res.ok) catalog = res.body;
    if (window.qrcode && qrcode.stringToBytesFuncs) qrcode.stringToBytes = qrcode.stringToBytesFuncs["UTF-8"];
    startLoop();
    setInterval(loadExtras, EXTRAS_REFRESH_MS);
    setInterval(loadCards, CARDS_REFRESH_MS);
    const setState = DG.connectionIndicator(document.querySelector("[data-slot=conn]"));
    new DG.LiveSocket(`/ws/kiosk?token=${encodeURIComponent(token)}`, { onMessage, onState: setState });
    I18N.onChange(render);
  });
})();
