/* Shared helpers of the screens: safe DOM building, plate badges, the live socket with
 * auto-reconnect, the chime, and the staff header (who is logged in, log out).
 * No business logic here: the server decides what to show, the pages only lay it out. */
(function () {
  "use strict";

  /** Build an element without innerHTML, so no server string is ever parsed as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const PLATE_COLORS = ["blue", "yellow", "green", "white", "black"];

  function plateColor(color, type) {
    if (PLATE_COLORS.includes(color)) return color;
    if (type && type.startsWith("new_energy")) return "green";
    if (type && (type.startsWith("yellow") || type === "coach" || type === "trailer")) return "yellow";
    if (type === "police" || type === "emergency") return "white";
    if (type === "hk_macao" || type === "embassy" || type === "consulate") return "black";
    return "blue";
  }

  /** 粤A12345 → "粤A·12345" (the dot sits where the plate's separator is). */
  function formatPlate(plate) {
    if (!plate || plate.length < 3 || plate.includes("·")) return plate || "";
    return plate.slice(0, 2) + "·" + plate.slice(2);
  }

  function plateBadge(plate, color, type, size) {
    const cls = `plate plate--${plateColor(color, type)}${size ? " plate--" + size : ""}`;
    const text = formatPlate(plate);
    const i = text.indexOf("·");
    if (i < 0) return el("span", { class: cls, text });
    return el("span", { class: cls, "aria-label": plate },
      text.slice(0, i), el("span", { class: "plate__dot", text: "·" }), text.slice(i + 1));
  }

  function timeHM(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "zh-CN",
      { hour: "2-digit", minute: "2-digit" });
  }

  function relTime(iso) {
    const mins = Math.floor((Date.now() - new Date(iso).getTime()) / 60000);
    if (!(mins >= 1)) return I18N.t("fd.justNow");
    if (mins < 60) return I18N.t("fd.minutesAgo", { n: mins });
    return timeHM(iso);
  }

  /** "兄弟店客户 · 天河店": shown on a staff screen when the car's file belongs to a sister store
   * (payload `other_site` / `file_site`); null for this store's customers. `short` for list rows. */
  function siteBadge(a, short) {
    if (!a || !a.other_site || !a.file_site) return null;
    const name = I18N.pick(a.file_site) || a.file_site.code;
    return el("span", {
      class: `chip chip--site${short ? " chip--s" : ""}`, dataset: { slot: "other-site", site: a.file_site.code },
      title: I18N.t("site.other.title", { name }),
      text: short ? I18N.t("site.otherShort") : I18N.t("site.other", { name }),
    });
  }

  /** CSS class of a policy countdown: the tier decides the colour. */
  function tierKey(policy) {
    if (!policy || policy.days_to_expiry === null || policy.days_to_expiry === undefined) return "unknown";
    if (policy.tier === "expired") return "expired";
    return policy.tier ? String(policy.tier) : "none";
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      opts.headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    const res = await fetch(path, opts);
    let body = null;
    if (res.status !== 204) {
      try { body = await res.json(); } catch (e) { body = null; }
    }
    return { ok: res.ok, status: res.status, body, headers: res.headers };
  }

  /**
   * Keeps the newest of overlapping requests: each call to the returned function starts one and returns
   * a check that stays true only while no later one has started, so a slow old answer (the period picked
   * before) never overwrites a newer one.
   */
  function newestOnly() {
    let latest = 0;
    return () => {
      const mine = ++latest;
      return () => mine === latest;
    };
  }

  function toLogin() {
    window.location.href = "/login?next=" + encodeURIComponent(window.location.pathname);
  }

  /** A server refusal in one line: its own message, or each field and what is wrong with it (422). */
  function reason(body) {
    const detail = body && body.detail;
    if (!Array.isArray(detail)) return String(detail || "");
    return detail.map((d) => `${(d.loc || []).slice(-1)[0]}: ${String(d.msg).replace(/^Value error, /, "")}`).join("; ");
  }

  /** Whole minutes (at least 1) of a wait given in seconds (a 429's Retry-After). */
  function waitMinutes(seconds) {
    return Math.max(1, Math.ceil(Number(seconds) / 60) || 1);
  }

  /** Put a translated message in a status line; it stays translated across a language switch. */
  function setStatus(node, key, vars, error) {
    node.dataset.i18n = key;
    if (vars) node.dataset.i18nVars = JSON.stringify(vars); else delete node.dataset.i18nVars;
    node.textContent = I18N.t(key, vars);
    node.classList.toggle("status--error", Boolean(error));
  }

  /** Failed (re)connections in a row after which a screen says "offline" rather than "reconnecting". */
  const OFFLINE_AFTER = 2;

  /**
   * WebSocket that never gives up: exponential back-off (1 s → 15 s, with jitter), state callbacks
   * for the connection indicator. A connection counts as live once the server's first message (the
   * day's snapshot) arrives: a socket that opens and drops without it is a failed attempt too.
   * The browser's online/offline events are honoured: offline at once, reconnect as soon as the
   * network is back. A staff socket refused at the handshake checks the login and sends the user
   * to /login when the session has expired.
   */
  class LiveSocket {
    constructor(path, { onMessage, onState, staff }) {
      this.path = path;
      this.onMessage = onMessage;
      this.onState = onState || (() => {});
      this.staff = !!staff;
      this.attempt = 0;
      this.failures = 0;
      this.healthy = false;
      this.timer = null;
      window.addEventListener("offline", () => this.onState("offline", 0));
      window.addEventListener("online", () => this.reconnectNow());
      this.connect();
    }

    url() {
      const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
      return `${proto}//${window.location.host}${this.path}`;
    }

    connect() {
      this.timer = null;
      if (this.failures === 0) this.onState("connecting");
      let opened = false;
      this.healthy = false;
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.addEventListener("open", () => { opened = true; });
      ws.addEventListener("message", (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        if (!this.healthy) {
          this.healthy = true;
          this.attempt = 0;
          this.failures = 0;
          this.onState("live");
        }
        this.onMessage(msg);
      });
      ws.addEventListener("close", async () => {
        if (this.ws !== ws) return;
        this.healthy = false;
        if (!opened && this.staff) {
          const me = await api("/api/v1/me").catch(() => null);
          if (me && me.status === 401) { this.onState("denied"); toLogin(); return; }
        }
        this.failures += 1;
        this.schedule();
      });
    }

    schedule() {
      const base = Math.min(15, 2 ** this.attempt);
      const delay = Math.round((base * (0.75 + Math.random() * 0.5)) * 10) / 10;
      this.attempt += 1;
      const offline = !navigator.onLine || this.failures >= OFFLINE_AFTER;
      this.onState(offline ? "offline" : "retry", Math.ceil(delay));
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.connect(), delay * 1000);
    }

    /** The network is back: try at once instead of waiting out the back-off. */
    reconnectNow() {
      if (this.healthy) { this.onState("live"); return; }
      if (this.timer === null) return; // an attempt is under way
      clearTimeout(this.timer);
      this.attempt = 0;
      this.connect();
    }
  }

  /** Two-tone chime via WebAudio; browsers keep audio locked until a click, hence `unlock()`. */
  const Chime = {
    ctx: null,
    played: 0, // chimes actually sounded (tests and the bench read it)
    ready() { return !!this.ctx && this.ctx.state === "running"; },
    async unlock() {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return false;
      this.ctx = this.ctx || new AC();
      if (this.ctx.state !== "running") await this.ctx.resume().catch(() => {});
      return this.ready();
    },
    play(urgent) {
      if (!this.ready()) return;
      this.played += 1;
      const ctx = this.ctx;
      const notes = urgent ? [880, 1174.66, 880] : [659.25, 987.77];
      notes.forEach((freq, i) => {
        const t0 = ctx.currentTime + i * 0.18;
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, t0);
        gain.gain.exponentialRampToValueAtTime(0.25, t0 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.55);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0);
        osc.stop(t0 + 0.6);
      });
    }
  };

  /** Connection indicator: a dot and a sentence, kept in sync with a LiveSocket's state; the body
   * carries the state too (data-conn), so a whole screen can show from afar that it is not live. */
  function connectionIndicator(node) {
    let state = "connecting";
    let secs = 0;
    function render() {
      node.dataset.state = state;
      document.body.dataset.conn = state;
      node.replaceChildren(el("span", { class: "conn__dot", "aria-hidden": "true" }),
        el("span", { text: I18N.t(`conn.${state}`, { s: secs }) }));
    }
    I18N.onChange(render);
    render();
    return (next, s) => { state = next; secs = s || 0; render(); };
  }

  /** Fill the header's user slot (a link to change one's password) and wire the log-out button. */
  async function mountStaffHeader() {
    const slot = document.querySelector("[data-slot=user]");
    const res = await api("/api/v1/me").catch(() => null);
    if (!res || res.status === 401) { toLogin(); return null; }
    if (slot && res.body) {
      slot.replaceChildren(window.location.pathname === "/account" ? res.body.display_name
        : el("a", { href: "/account", class: "topbar__account", "data-i18n-title": "account.title",
          title: I18N.t("account.title"), text: res.body.display_name }));
    }
    const out = document.querySelector("[data-action=logout]");
    if (out) {
      out.addEventListener("click", async () => {
        await api("/api/v1/auth/logout", { method: "POST" }).catch(() => null);
        window.location.href = "/login";
      });
    }
    return res.body;
  }

  function startClock(node) {
    function tick() {
      const now = new Date();
      node.textContent = now.toLocaleTimeString(I18N.lang === "en" ? "en-GB" : "zh-CN",
        { hour: "2-digit", minute: "2-digit" });
      node.title = now.toLocaleDateString(I18N.lang === "en" ? "en-GB" : "zh-CN",
        { year: "numeric", month: "long", day: "numeric", weekday: "long" });
    }
    tick();
    setInterval(tick, 5000);
  }

  window.DG = { el, plateBadge, plateColor, formatPlate, timeHM, relTime, tierKey, siteBadge, api, newestOnly, toLogin, reason, setStatus, waitMinutes,
    LiveSocket, Chime, connectionIndicator, mountStaffHeader, startClock };
})();
