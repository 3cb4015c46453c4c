// The agency's view: the predikat distribution against the curve, the recap, the devices.
"use strict";

const PCT = new Intl.NumberFormat("id-ID", { style: "percent", maximumFractionDigits: 0 });
function curveText(allowed) {  // the PermenPANRB 6/2022 curve the organisation's predikat allows, in words
  const parts = Object.entries(allowed.max || {}).map(([p, v]) => `${p} paling banyak ${PCT.format(v)}`);
  for (const m of allowed.min || []) {
    const names = m.predikat.join(" / ");
    parts.push(m.share > 0 ? `${names} paling sedikit ${PCT.format(m.share)}` : m.required ? `harus ada ${names}` : null);
  }
  return parts.filter(Boolean).join("; ");
}

async function loadDistribution() {
  const res = await api("penilaian", `/api/v1/distribution?period=${state.period}`);
  if (!res.ok) { fill("admin-distribution", failure(res)); return; }
  const d = res.data;
  const verdict = (within, breaches, rated) => (!d.allowed || !rated ? el("td", { class: "muted", text: "—" })
    : within ? el("td", { class: "ok", "data-testid": "within-curve", text: "sesuai kurva" })
      : el("td", { class: "gap", "data-testid": "breaks-curve" }, "melampaui kurva", el("div", { class: "small" }, breaches.map((b) => el("div", { text: b.description })))));
  const row = (label, counts, total, within, breaches, rated) => el("tr", { "data-unit": label }, el("td", { text: label }),
    el("td", {}, el("div", { class: "stack", title: PREDIKATS.map(([p]) => `${p}: ${counts[p] || 0}`).join("\n") },
      PREDIKATS.map(([p, cls]) => (counts[p] ? el("div", { class: cls, style: `width:${(100 * counts[p]) / Math.max(1, total)}%` }) : null)))),
    ...PREDIKATS.map(([p]) => el("td", { class: "num", text: counts[p] || 0 })), el("td", { class: "num", text: total }),
    verdict(within, breaches, rated));
  const agencyRated = PREDIKATS.slice(0, 5).reduce((a, [p]) => a + ((d.agency_counts || {})[p] || 0), 0);
  fill("admin-distribution",
    el("p", { "data-testid": "curve" }, d.organisation_predikat
      ? [el("strong", { text: `Predikat organisasi: ${d.organisation_predikat}. ` }), `Kurva PermenPANRB 6/2022: ${curveText(d.allowed || {})}.`]
      : [na("Predikat organisasi belum ditetapkan"), " — kurva distribusi belum dapat diterapkan."]),
    el("table", {},
      el("thead", {}, el("tr", {}, el("th", { text: "Unit" }), el("th", { text: "Sebaran" }), ...PREDIKATS.map(([p]) => el("th", { class: "num", text: p })),
        el("th", { class: "num", text: "Jumlah" }), el("th", { text: "Kurva" }))),
      el("tbody", {}, (d.units || []).map((u) => row(u.unit, u.counts || {}, u.total, u.within_curve, u.breaches || [], u.rated)),
        row("Seluruh instansi", d.agency_counts || {}, d.total, d.agency_within_curve, d.agency_breaches || [], agencyRated))),
    (d.units_breaking || []).length
      ? el("p", { class: "gap", "data-testid": "units-breaking", text: `Unit yang melampaui kurva: ${d.units_breaking.join(", ")}.` })
      : d.allowed ? el("p", { class: "ok", text: "Semua unit sesuai kurva distribusi." }) : null);
}

const RUPIAH = new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 });
const rupiah = (v) => (given(v) ? RUPIAH.format(v) : "—");

async function loadRecap() {
  const res = await api("kehadiran", `/api/v1/reports/recap?period=${state.period}`);
  if (!res.ok) { fill("admin-recap", failure(res)); return; }
  const rows = res.data.rows || [];
  if (!rows.length) { fill("admin-recap", el("p", { class: "muted", text: "Belum ada data kehadiran pada periode ini." })); return; }
  const codes = [...new Set(rows.flatMap((r) => Object.entries(r.totals || {}).filter(([, n]) => n).map(([c]) => c)))].sort();
  const units = res.data.units || [];
  fill("admin-recap",
    el("h3", { class: "sub", text: "Potongan TPP per unit" }),
    el("table", { "data-testid": "recap-units" },
      el("thead", {}, el("tr", {}, el("th", { text: "Unit" }), el("th", { class: "num", text: "ASN" }),
        el("th", { class: "num", text: "TPP dasar" }), el("th", { class: "num", text: "Potongan (Rp)" }))),
      el("tbody", {}, units.map((u) => el("tr", { "data-unit": u.unit }, el("td", { text: u.unit }), el("td", { class: "num", text: u.asn }),
        el("td", { class: "num", text: u.with_tpp ? rupiah(u.tpp_base) : "—" }), el("td", { class: "num neg", text: u.with_tpp ? rupiah(u.deduction_rupiah) : "—" })))),
      el("tfoot", {}, el("tr", {}, el("th", { text: "Jumlah" }), el("th", { class: "num", text: units.reduce((a, u) => a + u.asn, 0) }),
        el("th", { class: "num", text: rupiah(units.reduce((a, u) => a + u.tpp_base, 0)) }), el("th", { class: "num neg", text: rupiah(res.data.deduction_rupiah) })))),
    el("h3", { class: "sub", text: "Per ASN" }),
    el("div", { class: "scroll" }, el("table", { "data-testid": "recap-rows" },
      el("thead", {}, el("tr", {}, el("th", { text: "Nama" }), el("th", { text: "Unit" }), ...codes.map((c) => el("th", { class: "num", text: c })),
        el("th", { class: "num", text: "Potongan" }), el("th", { class: "num", text: "TPP dasar" }), el("th", { class: "num", text: "Potongan (Rp)" }))),
      el("tbody", {}, rows.map((r) => el("tr", { "data-nip": r.nip }, el("td", { text: r.nama || r.nip }), el("td", { text: r.unit || "" }),
        ...codes.map((c) => el("td", { class: "num", text: (r.totals || {})[c] || 0 })), el("td", { class: "num neg", text: `${NUM.format(r.percent || 0)} %` }),
        el("td", { class: "num", text: rupiah(r.tpp_base) }), el("td", { class: r.deduction_rupiah ? "num neg" : "num", text: rupiah(r.deduction_rupiah) })))))));
}

async function downloadRecap(format) {
  const r = await fetch(`${CFG.kehadiran}/api/v1/reports/recap?period=${state.period}&format=${format}`, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!r.ok) return;
  const url = URL.createObjectURL(await r.blob());
  const a = el("a", { href: url, download: `rekap-${state.period}.${format}` });
  document.body.append(a); a.click(); a.remove(); URL.revokeObjectURL(url);
}

async function loadDevices() {
  const res = await api("kehadiran", "/api/v1/devices");
  if (!res.ok) { fill("admin-devices", failure(res)); return; }
  const devices = res.data || [];
  if (!devices.length) { fill("admin-devices", el("p", { class: "muted", text: "Belum ada mesin terdaftar." })); return; }
  const statuses = await Promise.all(devices.map((d) => api("kehadiran", `/api/v1/devices/${encodeURIComponent(d.sn)}/status`)));
  fill("admin-devices", el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "SN" }), el("th", { text: "Nama" }), el("th", { text: "Status" }), el("th", { text: "Kontak terakhir" }),
      el("th", { class: "num", text: "Rekaman hari ini" }), el("th", { class: "num", text: "Karantina" }))),
    el("tbody", {}, devices.map((d, i) => {
      const st = statuses[i].ok ? statuses[i].data : null;
      return el("tr", {}, el("td", { text: d.sn }), el("td", { text: d.name || "" }),
        el("td", {}, st ? el("span", { class: st.online ? "ok" : "off", text: st.online ? "daring" : "luring" }) : failure(statuses[i])),
        el("td", { text: dateTime((st && st.last_contact_at) || d.last_contact_at) }),
        el("td", { class: "num", text: st ? st.records_today : "—" }), el("td", { class: "num", text: st ? st.quarantined : "—" }));
    }))));
}
