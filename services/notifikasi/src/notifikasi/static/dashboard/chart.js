// The month day by day as an inline SVG chart, and the quarter's or year's evaluation document.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
async function loadHistory() {  // the month day by day, from penilaian's stored facts
  const res = await api("penilaian", `/api/v1/scores/${state.me.nip}/history?period=${state.period}`);
  state.history = res.ok ? res.data.days || [] : [];
  drawChart();
}
function drawChart() {
  const W = 520, H = 200, L = 34, R = 10, T = 10, B = 24;
  const days = daysIn(state.period);
  const point = (d, v) => (given(v) ? { day: Number(d.date.slice(8, 10)), value: v } : null);
  const series = [
    ["disiplin", state.history.map((d) => point(d, d.disiplin)).filter(Boolean)],
    ["total", state.history.map((d) => point(d, currentTotal(d))).filter(Boolean)],
  ];
  // the y axis runs from a round number below the lowest score to 100, so small changes show
  const lowest = Math.min(100, ...series.flatMap(([, pts]) => pts.map((p) => p.value)));
  const lo = Math.max(0, Math.floor((lowest - 5) / 10) * 10);
  const x = (d) => L + ((d - 1) / Math.max(1, days - 1)) * (W - L - R);
  const y = (v) => T + (1 - (Math.max(lo, Math.min(100, v)) - lo) / (100 - lo)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Grafik skor bulan ini" });
  for (const v of [0, 1, 2, 3, 4].map((i) => lo + ((100 - lo) * i) / 4)) {
    root.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    root.append(svg("text", { x: L - 6, y: y(v) + 3, "text-anchor": "end" }, NUM.format(v)));
  }
  for (let d = 1; d <= days; d += Math.ceil(days / 10)) root.append(svg("text", { x: x(d), y: H - 8, "text-anchor": "middle" }, String(d)));
  root.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  let drawn = 0;
  for (const [name, pts] of series) {
    if (!pts.length) continue;
    drawn += pts.length;
    const sorted = [...pts].sort((a, b) => a.day - b.day);
    // a step line: a score holds until the next change
    let d = `M${x(sorted[0].day)},${y(sorted[0].value)}`;
    for (let i = 1; i < sorted.length; i++) d += ` H${x(sorted[i].day)} V${y(sorted[i].value)}`;
    root.append(svg("path", { class: `line-${name}`, d }));
    for (const p of sorted) root.append(svg("circle", { class: `dot-${name}`, cx: x(p.day), cy: y(p.value), r: 3 }, undefined));
  }
  if (!drawn) root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "belum dinilai"));
  fill("chart", root);
}

function quarterOf(period) { const [y, m] = period.split("-").map(Number); return `${y}-Q${Math.floor((m - 1) / 3) + 1}`; }
async function downloadDocument(kind) {  // the "Dokumen Evaluasi Kinerja Pegawai" of the quarter or the year
  const period = kind === "year" ? state.period.slice(0, 4) : quarterOf(state.period);
  $("doc-status").textContent = "menyiapkan…";
  const r = await fetch(`${CFG.penilaian}/api/v1/scores/${state.me.nip}/document?period=${period}`,
    { headers: { Authorization: `Bearer ${state.token}` } });
  if (!r.ok) { $("doc-status").textContent = `gagal (${r.status})`; return; }
  const url = URL.createObjectURL(await r.blob());
  const a = el("a", { href: url, download: `evaluasi-kinerja-${state.me.nip}-${period}.pdf` });
  document.body.append(a); a.click(); a.remove(); URL.revokeObjectURL(url);
  $("doc-status").textContent = `terunduh: ${period}`;
}
