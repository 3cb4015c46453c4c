// The supervisor's view: the team, what waits for approval, who is absent, whose data has gaps.
"use strict";

async function loadTeam() {
  const res = await api("penilaian", `/api/v1/teams/${state.me.nip}/scores?period=${state.period}`);
  if (!res.ok) { fill("team-scores", failure(res)); fill("team-absent", failure(res)); fill("team-gaps", failure(res)); return; }
  state.team = res.data.members || [];
  if (!state.team.length) { fill("team-scores", el("p", { class: "muted", text: "Belum ada anggota tim." })); return; }
  fill("team-scores", el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "Nama" }), el("th", { text: "Unit" }),
      ...["Disiplin", "Produktivitas", "Perilaku", "Hasil kerja", "Total"].map((h) => el("th", { class: "num", text: h })), el("th", { text: "Predikat" }))),
    el("tbody", {}, state.team.map((m) => el("tr", { "data-nip": m.nip },
      el("td", {}, m.nama || m.nip, el("div", { class: "ids", text: m.nip })), el("td", { text: m.unit || "" }),
      ...["disiplin", "produktivitas", "perilaku", "hasil_kerja"].map((k) => el("td", { class: "num" }, scoreNode(m[k]))),
      el("td", { class: "num" }, totalNode(m)),
      el("td", { text: m.predikat || "Belum dinilai" }))))));
}
function nameOf(nip) { const m = state.team.find((t) => t.nip === nip); return m ? m.nama : nip; }

async function loadApprovals() {
  const res = await api("tugas", "/api/v1/tasks?status=submitted&limit=200");
  if (!res.ok) { fill("team-approvals", failure(res)); return; }
  const items = (res.data.items || []).filter((t) => t.nip !== state.me.nip);
  if (!items.length) { fill("team-approvals", el("p", { class: "muted", text: "Tidak ada tugas yang menunggu persetujuan." })); return; }
  fill("team-approvals", el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Tugas" }), el("th", { text: "Pegawai" }), el("th", { text: "Dikirim" }))),
    el("tbody", {}, items.map((t) => el("tr", {}, el("td", { text: t.title }), el("td", { text: nameOf(t.nip) }), el("td", { text: dateTime(t.submitted_at) }))))));
}

async function loadAbsent() {
  const today = todayLocal();
  if (!state.team.length) { fill("team-absent", el("p", { class: "muted", text: "Belum ada anggota tim." })); return; }
  const weekday = new Date(`${today}T12:00:00Z`).getUTCDay();
  if (weekday === 0 || weekday === 6) {  // shift workers still show up if they punched
    fill("team-absent", el("p", { class: "muted", text: "Hari ini bukan hari kerja menurut jadwal standar (Senin–Jumat)." }));
    return;
  }
  const results = await Promise.all(state.team.map(async (m) => [m, await api("kehadiran", `/api/v1/days?nip=${m.nip}&period=${today.slice(0, 7)}`)]));
  if (results.every(([, r]) => !r.ok)) { fill("team-absent", failure(results[0][1])); return; }
  const absent = results.filter(([, r]) => r.ok).filter(([, r]) => {
    const day = (r.data || []).find((d) => d.date === today);
    return !(day && day.arrival) && !(day && (day.excused || day.workday === false));
  }).map(([m]) => m);
  fill("team-absent", absent.length
    ? el("ul", {}, absent.map((m) => el("li", { text: `${m.nama || m.nip} (${m.unit || "-"})` })))
    : el("p", { class: "ok", text: "Semua anggota tim sudah hadir atau berhalangan sah." }));
}

async function loadGaps() {
  if (!state.team.length) { fill("team-gaps", el("p", { class: "muted", text: "Belum ada anggota tim." })); return; }
  const results = await Promise.all(state.team.map(async (m) => [m, await api("penilaian", `/api/v1/ratings/${m.nip}?period=${state.period}`)]));
  if (results.every(([, r]) => !r.ok)) { fill("team-gaps", failure(results[0][1])); return; }
  const rows = [];
  for (const [m, r] of results) {
    if (!r.ok) continue;
    for (const v of r.data.values || []) {
      if (v.gap !== null && v.gap !== undefined && Math.abs(v.gap) >= 1) rows.push([m, v]);
    }
  }
  rows.sort((a, b) => Number(b[1].dialog_needed) - Number(a[1].dialog_needed));  // those needing a dialog first
  fill("team-gaps", rows.length ? el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "Pegawai" }), el("th", { text: "Nilai" }), el("th", { text: "Atasan" }), el("th", { text: "Diri sendiri" }), el("th", { text: "" }))),
    el("tbody", {}, rows.map(([m, v]) => el("tr", {}, el("td", { text: m.nama || m.nip }), el("td", { text: BERAKHLAK[v.value] || v.value }),
      el("td", { text: LEVEL[v.supervisor] || "—" }), el("td", { text: LEVEL[v.self] || "—" }),
      el("td", { class: v.dialog_needed ? "gap" : "muted", text: v.dialog_needed ? "perlu dialog kinerja" : v.dialog_id ? "dialog kinerja sudah dilakukan" : "beda 1 tingkat" })))))
    : el("p", { class: "muted", text: "Tidak ada perbedaan persepsi (atau belum dinilai)." }));
}
