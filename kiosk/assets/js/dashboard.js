/* Manager dashboard: draws what /api/v1/dashboard computed (headline figures, one chart and one
 * table per figure, the footnotes that say how each is counted). Every number comes from the
 * server; this file only chooses the chart type and formats. Charts: vendored Chart.js. */
(function () {
  "use strict";
  const { el } = DG;
  const PALETTE = ["#2f6bff", "#13a35a", "#d89b00", "#e0484a", "#8e44ad", "#0a9fd8", "#ff7a45", "#6f7aa0"];
  const KIND = {
    renewal_weekly: "line", arrivals_daily: "arrivals", conversion_segment: "hbar",
    conversion_channel: "hbar", conversion_model: "hbar", lapse_reasons: "doughnut", lost_destination: "doughnut",
  };
  const WIDE = new Set(["renewal_weekly", "arrivals_daily"]);
  const charts = [];
  let data = null;

  const label = (v) => (v && typeof v === "object" ? I18N.pick(v) : String(v ?? ""));
  const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
  const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString());

  let site = new URLSearchParams(window.location.search).get("site") || ""; // "": the whole group

  function weeks() { return document.querySelector("[data-slot=weeks]").value; }

  /** The period and store the figures are of: for the API, the CSV links and the page's own URL. */
  function query() {
    const q = new URLSearchParams({ weeks: weeks() });
    if (site) q.set("site", site);
    return q.toString();
  }

  /** The store choice: the whole group, then every store the server lists (its own first). */
  function siteOptions() {
    const select = document.querySelector("[data-slot=site]");
    select.replaceChildren(el("option", { value: "", text: I18N.t("dash.allSites") }),
      ...data.sites.map((s) => el("option", { value: s.code, text: I18N.pick(s) })));
    select.value = site;
  }

  function cell(value, kind) {
    if (kind === "rate") return pct(value);
    if (kind === "int") return num(value);
    return label(value);
  }

  function table(t) {
    return el("table", { class: "dash-table" },
      el("thead", {}, el("tr", {}, t.columns.map((c) => el("th", { class: c.kind === "text" ? "" : "num", text: I18N.pick(c) })))),
      el("tbody", {}, t.rows.map((r) => el("tr", {},
        r.map((v, i) => el("td", { class: t.columns[i].kind === "text" ? "" : "num", text: cell(v, t.columns[i].kind) }))))));
  }

  function hasData(chart) {
    return chart.series.some((s) => s.data.some((v) => v !== null && v !== 0));
  }

  function rateAxis(axis) {
    return { [axis]: { min: 0, max: 1, ticks: { callback: (v) => pct(v) } } };
  }

  /** Chart.js config for one figure: its type and axes are presentation, the numbers are the server's. */
  function config(key, chart) {
    const labels = chart.labels.map(label);
    const tooltip = (fmt) => ({ callbacks: { label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.raw)}` } });
    const base = { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom" } } };
    const kind = KIND[key];
    if (kind === "line") {
      return { type: "line", data: { labels, datasets: chart.series.map((s, i) => ({
        label: label(s.label), data: s.data, spanGaps: true, borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length], borderWidth: i === 0 ? 4 : 2, tension: 0.25 })) },
      options: { ...base, scales: rateAxis("y"), plugins: { ...base.plugins, tooltip: tooltip(pct) } } };
    }
    if (kind === "arrivals") {
      const [matched, unmatched, rate] = chart.series;
      return { type: "bar", data: { labels, datasets: [
        { label: label(matched.label), data: matched.data, backgroundColor: PALETTE[0], stack: "n", yAxisID: "y" },
        { label: label(unmatched.label), data: unmatched.data, backgroundColor: PALETTE[2], stack: "n", yAxisID: "y" },
        { type: "line", label: label(rate.label), data: rate.data, borderColor: PALETTE[1], backgroundColor: PALETTE[1],
          yAxisID: "y1", spanGaps: true }] },
      options: { ...base, scales: { y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        x: { stacked: true }, ...rateAxis("y1"), y1: { ...rateAxis("y1").y1, position: "right", grid: { display: false } } } } };
    }
    if (kind === "hbar") {
      const s = chart.series[0];
      return { type: "bar", data: { labels, datasets: [{ label: label(s.label), data: s.data,
        backgroundColor: labels.map((_, i) => PALETTE[i % PALETTE.length]) }] },
      options: { ...base, indexAxis: "y", scales: rateAxis("x"),
        plugins: { legend: { display: false }, tooltip: tooltip(pct) } } };
    }
    const s = chart.series[0];
    return { type: "doughnut", data: { labels, datasets: [{ label: label(s.label), data: s.data,
      backgroundColor: labels.map((_, i) => PALETTE[i % PALETTE.length]) }] },
    options: { ...base, plugins: { legend: { position: "right" } } } };
  }

  function card(t) {
    const chart = data.charts[t.key];
    const csv = `/api/v1/dashboard/${t.key}.csv?${query()}&days=${data.days}&lang=${I18N.lang}`;
    const box = el("div", { class: "dash-chart" });
    const node = el("section", { class: `panel dash-card${WIDE.has(t.key) ? " dash-card--wide" : ""}`, dataset: { table: t.key } },
      el("div", { class: "dash-card__head" }, el("h2", { text: I18N.pick(t) }),
        el("a", { class: "btn", href: csv, download: "", dataset: { action: "csv" }, text: I18N.t("dash.csv") })),
      box,
      el("details", {}, el("summary", { text: I18N.t("dash.table", { n: t.rows.length }) }), table(t)));
    if (hasData(chart)) {
      const canvas = el("canvas", { role: "img", "aria-label": I18N.pick(t) });
      box.append(canvas);
      charts.push(new Chart(canvas, config(t.key, chart)));
    } else {
      box.append(el("p", { class: "dash-empty", text: I18N.t("dash.noData") }));
    }
    return node;
  }

  function kpi(key, value, main) {
    return el("div", { class: `panel kpi${main ? " kpi--main" : ""}`, dataset: { kpi: key } },
      el("div", { class: "kpi__l", text: I18N.t(`dash.kpi.${key}`, { n: data.days }) }),
      el("div", { class: "kpi__v", text: value }));
  }

  function render() {
    if (!data) return;
    charts.splice(0).forEach((c) => c.destroy());
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    siteOptions();
    const s = data.summary;
    document.querySelector("[data-slot=range]").textContent = I18N.t("dash.range",
      { start: data.period.start, end: data.period.end, today: data.today });
    document.querySelector("[data-slot=kpis]").replaceChildren(
      kpi("rate", pct(s.renewal_rate), true), kpi("due", num(s.due)), kpi("renewed", num(s.renewed)),
      kpi("lost", num(s.lost)), kpi("arrivals", num(s.arrivals)), kpi("capture", pct(s.capture_rate), true));
    document.querySelector("[data-slot=cards]").replaceChildren(...data.tables.map(card));
    document.querySelector("[data-slot=notes]").replaceChildren(...data.footnotes.map((f) => el("li", { text: I18N.pick(f) })));
    document.body.dataset.ready = "true";
  }

  const startLoad = DG.newestOnly();

  async function load() {
    const current = startLoad();
    document.body.dataset.ready = "false";
    window.history.replaceState(null, "", `?${query()}`); // a reload keeps the period and the store
    const res = await DG.api(`/api/v1/dashboard?${query()}`).catch(() => null);
    if (!current()) return; // the period or store changed while this was on its way
    if (res && res.status === 401) { DG.toLogin(); return; }
    if (res && (res.status === 404 || res.status === 422) && site) { site = ""; load(); return; } // a stale link
    if (!res || !res.ok) {
      document.querySelector("[data-slot=range]").replaceChildren(el("span", { class: "dash-error", text: I18N.t("dash.error") }));
      return;
    }
    data = res.body;
    render();
  }

  document.addEventListener("DOMContentLoaded", () => {
    DG.mountStaffHeader();
    const select = document.querySelector("[data-slot=weeks]");
    const wanted = new URLSearchParams(window.location.search).get("weeks");
    if (wanted && select.querySelector(`option[value="${CSS.escape(wanted)}"]`)) select.value = wanted;
    select.addEventListener("change", load);
    document.querySelector("[data-slot=site]").addEventListener("change", (e) => { site = e.target.value; load(); });
    I18N.onChange(render);
    load();
  });
})();
