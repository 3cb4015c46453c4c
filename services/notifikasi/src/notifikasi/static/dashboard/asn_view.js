// The ASN's own view: the month's score and why it changed, today, tasks, ratings, training and
// the inbox.
"use strict";

async function loadScore(fresh) {
  const res = await api("penilaian", `/api/v1/scores/${state.me.nip}?period=${state.period}`);
  if (!res.ok) {
    fill("score-components", failure(res));
    $("score-total").textContent = res.status === 404 ? "belum dinilai" : "—";
    $("score-predikat").textContent = "Belum dinilai";
    fill("ledger", failure(res)); fill("deductions", failure(res));
    await loadHistory();
    return;
  }
  const previous = state.score;
  const s = (state.score = res.data);
  if (s.nama) $("who").textContent = `${s.nama} · NIP ${s.nip}${s.unit ? " · " + s.unit : ""} · ${ROLE_LABEL[state.me.role] || state.me.role}`;
  const provisional = !given(s.total) && given(s.total_partial);
  $("score-total").textContent = provisional ? NUM.format(s.total_partial) : score(s.total);
  $("score-total-label").replaceChildren(provisional
    ? el("span", { class: "provisional", "data-testid": "score-provisional", title: "Hasil kerja atau perilaku kerja belum dinilai: total belum final" }, "Total sementara")
    : "Total");
  const pred = $("score-predikat");
  pred.textContent = s.predikat || "Belum dinilai";
  pred.className = "predikat" + (!s.predikat || s.predikat === "Belum dinilai" ? " none" : /Kurang|Perbaikan/.test(s.predikat) ? " low" : "");
  fill("score-components", COMPONENTS.flatMap(([key, label]) => {
    const v = key === "disiplin" ? (s.disiplin || {}).score : s[key];
    return [el("dt", { text: label }), el("dd", { "data-testid": `score-${key}` }, scoreNode(v))];
  }));
  $("score-updated").textContent = s.updated_at ? `Diperbarui ${dateTime(s.updated_at)}` : "";
  renderBasis(s.predikat_basis);
  renderDeductions(s);
  renderLedger(s, previous);
  await loadHistory();
}

function renderBasis(b) {  // the matrix cell behind the predikat, and the cut-offs
  if (!b) { fill("score-basis"); return; }
  const part = (label, v, lvl) => given(v) ? `${label} ${NUM.format(v)} (${(LEVEL[lvl] || lvl).toLowerCase()})` : `${label} belum dinilai`;
  fill("score-basis", el("strong", { text: "Mengapa predikat ini? " }),
    `${part("Hasil kerja", b.hasil_kerja, b.hasil_kerja_level)} × ${part("perilaku kerja", b.perilaku, b.perilaku_level)}`,
    given(b.hasil_kerja_level) && given(b.perilaku_level) ? ` → ${b.predikat}` : " → belum dinilai",
    el("span", { class: "muted" }, ` (matriks PermenPANRB 6/2022; di atas ekspektasi ≥ ${NUM.format(b.above_from)}, sesuai ekspektasi ≥ ${NUM.format(b.meets_from)})`));
}

function renderDeductions(s) {
  const list = (s.disiplin && s.disiplin.deductions) || [];
  if (!list.length) { fill("deductions", el("p", { class: "muted", text: "Tidak ada potongan bulan ini." })); return; }
  const byCode = new Map();
  for (const d of list) {
    const agg = byCode.get(d.code) || { code: d.code, days: 0, percent: 0 };
    agg.days += 1; agg.percent += Number(d.percent) || 0;
    byCode.set(d.code, agg);
  }
  const total = [...byCode.values()].reduce((a, b) => a + b.percent, 0);
  fill("deductions", el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "Kode" }), el("th", { text: "Keterangan" }), el("th", { class: "num", text: "Hari" }), el("th", { class: "num", text: "Potongan" }))),
    el("tbody", {}, [...byCode.values()].sort((a, b) => a.code.localeCompare(b.code)).map((d) =>
      el("tr", { "data-code": d.code }, el("td", { text: d.code }), el("td", { class: "muted", text: CODE_LABEL[d.code] || "" }),
        el("td", { class: "num", text: d.days }), el("td", { class: "num neg", text: `${NUM.format(d.percent)} %` })))),
    el("tfoot", {}, el("tr", {}, el("th", { text: "Jumlah" }), el("th"), el("th"), el("th", { class: "num neg", text: `${NUM.format(total)} %` })))));
}

function renderLedger(s, previous) {
  const entries = s.ledger || [];
  if (!entries.length) { fill("ledger", el("p", { class: "muted", text: "Belum ada catatan perubahan skor pada periode ini." })); return; }
  const seen = new Set(((previous && previous.ledger) || []).map((e) => e.component + "|" + e.rule + "|" + e.points));
  const rows = [...entries].sort((a, b) => String(b.date || "").localeCompare(String(a.date || "")));
  fill("ledger", el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "Tanggal" }), el("th", { text: "Komponen" }), el("th", { text: "Alasan" }),
      el("th", { class: "num", text: "Poin" }), el("th", { text: "Peristiwa" }))),
    el("tbody", {}, rows.map((e) => {
      const key = e.component + "|" + e.rule + "|" + e.points;
      const pts = Number(e.points);
      return el("tr", { class: previous && !seen.has(key) ? "fresh" : null, "data-testid": "ledger-row" },
        el("td", { text: e.date ? dateName(e.date) : "—" }),
        el("td", { text: COMPONENT_LABEL[e.component] || e.component }),
        el("td", { text: e.rule }),
        el("td", { class: "num " + (pts < 0 ? "neg" : "pos"), text: (pts > 0 ? "+" : "") + NUM.format(pts) }),
        el("td", { class: "ids", title: (e.event_ids || []).join("\n"), text: (e.event_ids || []).map((i) => String(i).slice(0, 8)).join(", ") }));
    }))));
}

async function loadToday() {
  const today = todayLocal();
  $("today-date").textContent = dateName(today);
  const res = await api("kehadiran", `/api/v1/days?nip=${state.me.nip}&period=${today.slice(0, 7)}`);
  if (!res.ok) { fill("today", failure(res)); return; }
  const day = (res.data || []).find((d) => d.date === today);
  if (!day) { fill("today", el("p", { class: "muted", text: "Belum ada absen hari ini." })); return; }
  const codes = (day.deductions || []).map((d) => `${d.code} (−${NUM.format(d.percent)} %)`).join(", ");
  fill("today", el("dl", { class: "components" },
    el("dt", { text: "Datang" }), el("dd", { "data-testid": "arrival" }, clock(day.arrival) || na("belum absen")),
    el("dt", { text: "Pulang" }), el("dd", { "data-testid": "departure" }, clock(day.departure) || na("belum absen")),
    el("dt", { text: "Terlambat" }), el("dd", { text: `${day.minutes_late || 0} menit` }),
    el("dt", { text: "Pulang cepat" }), el("dd", { text: `${day.minutes_early || 0} menit` }),
    el("dt", { text: "Kode" }), el("dd", { text: codes || (day.excused ? day.excused : "—") })));
}

async function loadTasks() {
  const res = await api("tugas", `/api/v1/tasks?assignee=${state.me.nip}&limit=500`);
  if (!res.ok) { fill("tasks", failure(res)); return; }
  const items = res.data.items || [];
  const count = Object.fromEntries(TASK_STATUS.map(([k]) => [k, 0]));
  for (const t of items) count[t.status] = (count[t.status] || 0) + 1;
  const open = items.filter((t) => ["assigned", "in_progress", "returned"].includes(t.status))
    .sort((a, b) => String(a.due_date).localeCompare(String(b.due_date))).slice(0, 5);
  fill("tasks", el("div", { class: "pills" }, TASK_STATUS.map(([k, label]) => el("span", { class: "pill", "data-status": k }, label, el("strong", { text: count[k] || 0 })))),
    open.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Tugas terbuka" }), el("th", { text: "Tenggat" }))),
      el("tbody", {}, open.map((t) => el("tr", {}, el("td", { text: t.title }), el("td", { text: dateName(t.due_date) })))))
      : el("p", { class: "muted small", text: items.length ? "Tidak ada tugas terbuka." : "Belum ada tugas." }));
}

async function loadRatings() {
  const res = await api("penilaian", `/api/v1/ratings/${state.me.nip}?period=${state.period}`);
  if (!res.ok) { fill("ratings", failure(res)); return; }
  const r = res.data;
  if (!r.supervisor && !r.self) { fill("ratings", el("p", { class: "muted", text: "Belum ada penilaian BerAKHLAK pada periode ini (belum dinilai)." })); return; }
  fill("ratings", el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "Nilai" }), el("th", { text: "Atasan" }), el("th", { text: "Diri sendiri" }))),
    el("tbody", {}, (r.values || []).map((v) => el("tr", {},
      el("td", { text: BERAKHLAK[v.value] || v.value }),
      el("td", {}, v.supervisor ? LEVEL[v.supervisor] || v.supervisor : belum()),
      el("td", { class: v.dialog_needed ? "gap" : "" }, v.self ? LEVEL[v.self] || v.self : belum(), v.dialog_needed ? " ⚠" : v.dialog_id ? " ✓" : ""))))),
    r.dialog_needed ? el("p", { class: "gap", text: "Ada nilai yang berbeda dua tingkat: dialog kinerja dengan atasan diperlukan." }) : null,
    (r.dialogs_held || []).map((d) => el("p", { class: "small", "data-testid": "dialog-held" },
      `Dialog kinerja ${dateName(d.date)} telah dilakukan. Tindak lanjut: ${d.follow_up}`)));
}

async function loadTraining() {
  const res = await api("penilaian", `/api/v1/training/${state.me.nip}`);
  if (!res.ok) { fill("training", failure(res)); return; }
  const t = res.data;
  const pct = Math.min(100, (100 * (t.jp_total || 0)) / (t.jp_target || 20));
  fill("training", el("p", {}, el("strong", { text: `${t.jp_total} dari ${t.jp_target} JP` }), ` tahun ${t.year}`, t.met ? " — terpenuhi" : ` — kurang ${t.jp_remaining} JP`),
    el("div", { class: "bar" }, el("div", { style: `width:${pct}%` })),
    (t.records || []).length ? el("ul", { class: "small" }, t.records.map((r) => el("li", { text: `${r.title} (${r.jp} JP)` }))) : null,
    (t.suggestions || []).length ? el("p", { class: "small", "data-testid": "training-suggestions" }, el("strong", { text: "Saran pelatihan: " }), t.suggestions.map((s) => s.topic).join(", ")) : null,
    (t.suggestions || []).length ? el("ul", { class: "small muted" }, t.suggestions.map((s) => el("li", { text: `${s.topic}: ${s.reason}` }))) : null);
}

async function loadInbox() {
  const res = await api("notifikasi", "/api/v1/notifications?limit=100");
  if (!res.ok) { fill("inbox", el("li", {}, failure(res))); return []; }
  const items = Array.isArray(res.data) ? res.data : res.data.items || [];
  state.lastInboxId = items.reduce((m, n) => Math.max(m, n.id), 0) || null;
  $("inbox-unread").textContent = res.data.unread ? `(${res.data.unread} belum dibaca)` : "";
  fill("inbox", items.slice(0, 20).map((n) => inboxItem(n, false)));
  if (!items.length) fill("inbox", el("li", { class: "muted", text: "Belum ada notifikasi." }));
  return items;
}
const EMAIL_STATUS = { sent: "e-mail terkirim", failed: "e-mail gagal terkirim", pending: "e-mail menunggu" };
function inboxItem(n, fresh) {
  const mail = n.email ? EMAIL_STATUS[n.email.status] + (n.email.status === "pending" && n.email.attempts ? ` (percobaan ${n.email.attempts}: ${n.email.last_error || "gagal"})` : "") : "";
  return el("li", { class: (fresh ? "fresh" : "") + (n.read_at ? " read" : "") || null, "data-id": n.id },
    el("div", { class: "t", text: n.title }), el("div", { text: n.body }),
    el("div", { class: "muted small", text: dateTime(n.created_at) + (mail ? ` · ${mail}` : "") }));
}
async function markAllRead() {  // everything up to the newest shown; what arrives meanwhile stays unread
  const r = await fetch("/api/v1/notifications/read-all", { method: "POST",
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" },
    body: JSON.stringify(state.lastInboxId ? { up_to_id: state.lastInboxId } : {}) });
  if (r.ok) { const d = await r.json(); $("inbox-unread").textContent = d.unread ? `(${d.unread} belum dibaca)` : ""; for (const li of $("inbox").children) li.classList.add("read"); }
}
