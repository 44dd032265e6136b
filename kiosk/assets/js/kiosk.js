/* Waiting-area kiosk: an attract loop, interrupted for ~25 s by content for the arriving car.
 * It only ever receives the kiosk payload (masked plate, model, content keys): nothing personal. */
(function () {
  "use strict";
  const { el } = DG;
  const SLIDE_MS = 9000;
  const WELCOME_MS = 25000;
  const token = new URLSearchParams(window.location.search).get("token") || "";
  let catalog = { packages: [], seasonal_offer: "value_services" };
  let slideIndex = 0;
  let slideTimer = null;
  let welcomeTimer = null;
  let current = null; // kiosk payload being shown
  const seen = new Set();

  function slides() {
    const offer = catalog.seasonal_offer;
    return [
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
  }

  function packageTable(recommended) {
    return el("div", { class: "pkg-table" }, catalog.packages.map((p) => el("div", {
      class: `pkg${p.key === recommended ? " pkg--rec" : ""}`,
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
    slideTimer = setInterval(() => { slideIndex += 1; showSlide(); }, SLIDE_MS);
  }

  function welcome(k) {
    const topics = k.content.claim_topics.length ? k.content.claim_topics : ["scratch", "glass", "rear_end"];
    const model = k.model ? `${k.brand} ${k.model}` : null;
    const pkg = catalog.packages.find((p) => p.key === k.content.package);
    return el("article", { class: "arrival-card welcome__card", dataset: { plate: k.masked_plate, eventId: k.event_id } },
      el("div", { class: "welcome__head" },
        DG.plateBadge(k.masked_plate, k.plate_color, null, "xl"),
        el("div", {},
          el("h1", { class: "welcome__title", text: I18N.t("kiosk.welcome") }),
          el("p", { class: "welcome__sub", text: I18N.t("kiosk.welcome.sub") })),
        model ? el("div", { class: "welcome__car" }, el("b", { text: model })) : null),
      el("section", { class: "k-panel" },
        el("h2", { text: model ? I18N.t("kiosk.claims.title", { model }) : I18N.t("kiosk.claims.generic") }),
        el("ol", { class: "claims" }, topics.map((t, i) => el("li", {},
          el("span", { class: "claims__n", text: String(i + 1) }),
          el("span", { class: "claims__t", text: I18N.t(`claim.${t}`) }),
          el("span", { class: "claims__d", text: I18N.t(`claimtip.${t}`) }))))),
      el("div", { class: "welcome__side" },
        el("section", { class: "k-panel offer" },
          el("h2", { text: I18N.t(`offer.${k.content.seasonal_offer}`) }),
          el("p", { text: I18N.t(`offer.${k.content.seasonal_offer}.sub`) })),
        pkg ? el("section", { class: "k-panel" },
          el("h2", { text: `${I18N.t("kiosk.recommended")} · ${I18N.pick(pkg)}` }),
          el("div", { class: "rec-covers" }, pkg.coverages.map((c) => el("span", { class: "chip", text: I18N.t(`cover.${c}`) })))) : null,
        el("section", { class: "k-panel self" },
          el("h2", { text: I18N.t("kiosk.selfservice") }),
          el("p", { text: I18N.t("kiosk.selfservice.sub") }))));
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

  document.addEventListener("DOMContentLoaded", async () => {
    DG.startClock(document.querySelector("[data-slot=clock]"));
    const res = await DG.api(`/api/v1/kiosk/catalog?token=${encodeURIComponent(token)}`).catch(() => null);
    if (res && res.ok) catalog = res.body;
    startLoop();
    const setState = DG.connectionIndicator(document.querySelector("[data-slot=conn]"));
    new DG.LiveSocket(`/ws/kiosk?token=${encodeURIComponent(token)}`, { onMessage, onState: setState });
    I18N.onChange(render);
  });
})();
