// Kinerja dashboard: plain JS, no build step, no third-party code.
// Reads kehadiran, tugas and penilaian from the browser (CORS) and notifikasi's SSE stream;
// re-fetches what an event concerns, so the page follows the score without reloading.
"use strict";

const CFG = window.KINERJA_CONFIG || {};
// the deployment's zone until the agency's own (WIB, WITA, WIT) is read from kehadiran at sign-in
let TZ = CFG.timezone || "Asia/Jakarta";
const TOKEN_KEY = "kinerja.token";
// OpenID Connect sign-in (authorization code + PKCE) when notifikasi names the agency's provider
const OIDC = CFG.oidc || null;
const OIDC_KEY = "kinerja.oidc";  // verifier, state and nonce while the browser is at the provider
const REFRESH_KEY = "kinerja.refresh";
const ID_TOKEN_KEY = "kinerja.idtoken";
const NUM = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 2 });
const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
  "Oktober", "November", "Desember"];
const ROLE_LABEL = { pegawai: "ASN", atasan: "Atasan", admin: "Admin OPD", operator: "Operator" };
const TASK_STATUS = [["assigned", "Ditugaskan"], ["in_progress", "Dikerjakan"], ["submitted", "Menunggu persetujuan"],
  ["returned", "Dikembalikan"], ["approved", "Disetujui"], ["cancelled", "Dibatalkan"]];
const COMPONENTS = [["disiplin", "Disiplin"], ["produktivitas", "Produktivitas"], ["berakhlak", "BerAKHLAK (atasan)"],
  ["perilaku", "Perilaku kerja"], ["hasil_kerja", "Hasil kerja"]];
const COMPONENT_LABEL = { disiplin: "Disiplin", produktivitas: "Produktivitas", perilaku: "Perilaku kerja",
  berakhlak: "BerAKHLAK", hasil_kerja: "Hasil kerja", predikat: "Predikat" };
const BERAKHLAK = { berorientasi_pelayanan: "Berorientasi Pelayanan", akuntabel: "Akuntabel", kompeten: "Kompeten",
  harmonis: "Harmonis", loyal: "Loyal", adaptif: "Adaptif", kolaboratif: "Kolaboratif" };
const LEVEL = { below: "Di bawah ekspektasi", meets: "Sesuai ekspektasi", above: "Di atas ekspektasi" };
const PREDIKATS = [["Sangat Baik", "p-sb"], ["Baik", "p-b"], ["Butuh Perbaikan", "p-bp"], ["Kurang/Misconduct", "p-k"],
  ["Sangat Kurang", "p-sk"], ["Belum dinilai", "p-bd"]];
const CODE_LABEL = { TL1: "Terlambat 1–30 mnt", TL2: "Terlambat 31–60 mnt", TL3: "Terlambat 61–90 mnt",
  TL4: "Terlambat ≥91 mnt / tanpa absen datang", PSW1: "Pulang cepat 1–30 mnt", PSW2: "Pulang cepat 31–60 mnt",
  PSW3: "Pulang cepat 61–90 mnt", PSW4: "Pulang cepat ≥91 mnt / tanpa absen pulang", TK: "Tanpa keterangan" };

// -- small helpers ------------------------------------------------------------------------------
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "style") node.style.cssText = v;  // CSSOM: allowed by the page's CSP, a style attribute is not
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}
function fill(id, ...nodes) { const box = $(id); box.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined)); return box; }
const na = (text) => el("span", { class: "na", text: text || "belum tersedia" });
const belum = () => el("span", { class: "na", text: "belum dinilai" });
const score = (v) => (v === null || v === undefined ? "belum dinilai" : NUM.format(v));
const scoreNode = (v) => (v === null || v === undefined ? belum() : document.createTextNode(NUM.format(v)));
const given = (v) => v !== null && v !== undefined;
// the final total, else (a part still unrated) the provisional one, marked "sementara"
const currentTotal = (s) => (given(s.total) ? s.total : given(s.total_partial) ? s.total_partial : null);
function totalNode(s) {
  if (given(s.total)) return document.createTextNode(NUM.format(s.total));
  if (!given(s.total_partial)) return belum();
  return el("span", {}, NUM.format(s.total_partial), " ", el("span", { class: "provisional", "data-testid": "provisional", text: "sementara" }));
}
function todayLocal() {  // YYYY-MM-DD in the agency's timezone
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}
function periodName(p) { const [y, m] = p.split("-"); return `${MONTHS[Number(m) - 1]} ${y}`; }
function dateName(d) { if (!d) return "—"; const [y, m, day] = d.slice(0, 10).split("-"); return `${Number(day)} ${MONTHS[Number(m) - 1]} ${y}`; }
function clock(value) {
  if (!value) return null;
  if (!String(value).includes("T")) return String(value).slice(0, 5);
  return new Intl.DateTimeFormat("id-ID", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(value));
}
function dateTime(value) {
  if (!value) return "—";
  return new Intl.DateTimeFormat("id-ID", { timeZone: TZ, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false })
    .format(new Date(value));
}
function daysIn(period) { const [y, m] = period.split("-").map(Number); return new Date(Date.UTC(y, m, 0)).getUTCDate(); }
function dayOf(value) {  // day of month (fractional) in the agency's timezone
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false })
    .formatToParts(new Date(value));
  const get = (t) => Number(parts.find((p) => p.type === t).value);
  return get("day") + (get("hour") % 24) / 24 + get("minute") / 1440;
}

// -- the token ----------------------------------------------------------------------------------
function takeTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const tok = params.get("token");
  if (tok) {
    sessionStorage.setItem(TOKEN_KEY, tok);
    params.delete("token");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
}
function claimsOf(tok) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part + "===".slice((part.length + 3) % 4)))));
  } catch (e) { return null; }
}

// -- OpenID Connect: the provider's login page, the code exchanged here with its PKCE verifier ---
function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function randomText(n) { const a = new Uint8Array(n); crypto.getRandomValues(a); return b64url(a); }
function redirectUri() { return location.origin + location.pathname; }
async function startOidcSignIn() {
  const verifier = randomText(48), st = randomText(16), nonce = randomText(16);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(OIDC_KEY, JSON.stringify({ verifier, state: st, nonce, search: location.search }));
  const q = new URLSearchParams({ response_type: "code", client_id: OIDC.client_id, redirect_uri: redirectUri(),
    scope: OIDC.scope || "openid", state: st, nonce, code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(`${OIDC.authorization_endpoint}?${q}`);
}
function keepTokens(body) {
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  if (body.refresh_token) sessionStorage.setItem(REFRESH_KEY, body.refresh_token);
  if (body.id_token) sessionStorage.setItem(ID_TOKEN_KEY, body.id_token);
}
async function tokenRequest(fields) {
  const r = await fetch(OIDC.token_endpoint, { method: "POST", body: new URLSearchParams({ client_id: OIDC.client_id, ...fields }),
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" } });
  let body = {};
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  return { ok: r.ok && !!body.access_token, status: r.status, body };
}
async function finishOidcSignIn() {  // back from the provider with ?code=&state= (or ?error=)
  const params = new URLSearchParams(location.search);
  if (!params.has("state") || !(params.has("code") || params.has("error"))) return null;
  const saved = JSON.parse(sessionStorage.getItem(OIDC_KEY) || "null");
  sessionStorage.removeItem(OIDC_KEY);
  history.replaceState(null, "", location.pathname + ((saved && saved.search) || ""));  // the code leaves the address bar
  if (params.has("error")) return { error: `Penyedia identitas menolak masuk: ${params.get("error_description") || params.get("error")}` };
  if (!saved || saved.state !== params.get("state")) return { error: "Masuk dibatalkan: jawaban penyedia identitas tidak cocok; silakan coba lagi." };
  const got = await tokenRequest({ grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri(),
    code_verifier: saved.verifier });
  if (!got.ok) return { error: `Token tidak diperoleh dari penyedia identitas (${got.status}${got.body.error ? ": " + got.body.error : ""}).` };
  const id = got.body.id_token ? claimsOf(got.body.id_token) : null;
  if (id && id.nonce !== saved.nonce) return { error: "Masuk dibatalkan: nonce tidak cocok; silakan coba lagi." };
  keepTokens(got.body);
  return { ok: true };
}
function keepFresh() {  // refresh the access token at three quarters of its life, while the provider allows
  const claims = claimsOf(state.token || "");
  if (!OIDC || !sessionStorage.getItem(REFRESH_KEY) || !claims || !claims.exp) return;
  const wait = Math.max(5, (claims.exp - Date.now() / 1000) * 0.75) * 1000;
  setTimeout(async () => {
    const got = await tokenRequest({ grant_type: "refresh_token", refresh_token: sessionStorage.getItem(REFRESH_KEY) || "" });
    if (!got.ok) return signIn("Sesi berakhir; silakan masuk lagi.");
    keepTokens(got.body);
    state.token = got.body.access_token;
    if (state.stream) { state.stream.close(); connectStream(); }  // the stream resumes with the new token
    keepFresh();
  }, wait);
}
function signOut() {
  const idToken = sessionStorage.getItem(ID_TOKEN_KEY);
  for (const k of [REFRESH_KEY, ID_TOKEN_KEY]) sessionStorage.removeItem(k);
  if (OIDC && OIDC.end_session_endpoint && idToken) {  // end the provider's session too
    sessionStorage.removeItem(TOKEN_KEY);
    const q = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: redirectUri(), client_id: OIDC.client_id });
    location.assign(`${OIDC.end_session_endpoint}?${q}`);
    return;
  }
  signIn("Anda telah keluar.");
}

// -- APIs ---------------------------------------------------------------------------------------
const state = { token: null, me: null, period: null, score: null, history: [], team: [], lastInboxId: null, stream: null };

async function api(service, path) {
  const base = service === "notifikasi" ? "" : CFG[service];
  if (base === undefined || base === null) return { ok: false, status: 0, missing: true };
  try {
    const r = await fetch(base + path, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json", "Accept-Language": "id" } });
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (r.status === 401) signIn("Sesi berakhir atau token tidak sah; silakan masuk lagi.");
    // a route the service does not have (yet) answers Flask's plain 404/405
    const missing = (r.status === 404 && !(data && data.message && !/requested URL was not found|Alamat yang diminta tidak ditemukan/.test(data.message))) || r.status === 405;
    return { ok: r.ok, status: r.status, data, missing };
  } catch (e) {
    return { ok: false, status: 0, missing: true, error: String(e) };
  }
}
function failure(res) {
  if (res.missing) return na("belum tersedia");
  if (res.status === 403) return na("tidak diizinkan untuk peran ini");
  return na(`belum tersedia (${res.status}${res.data && res.data.message ? ": " + res.data.message : ""})`);
}

// -- ASN view -----------------------------------------------------------------------------------
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

// -- the chart (inline SVG) --------------------------------------------------------------------
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

// -- supervisor view ----------------------------------------------------------------------------
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

// -- admin view ---------------------------------------------------------------------------------
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

// -- live updates -------------------------------------------------------------------------------
function setLive(s, text) { $("live").dataset.state = s; $("live-text").textContent = text; }
function connectStream() {
  const params = new URLSearchParams({ access_token: state.token });
  if (state.lastInboxId) params.set("last_event_id", String(state.lastInboxId));
  const es = (state.stream = new EventSource(`/api/v1/stream?${params}`));
  es.onopen = () => setLive("on", "Langsung");
  es.onerror = () => setLive("wait", "Menyambung ulang…");
  const onEvent = (ev) => {
    let n; try { n = JSON.parse(ev.data); } catch (e) { return; }
    state.lastInboxId = Math.max(state.lastInboxId || 0, n.id || 0);
    const list = $("inbox");
    if (list.firstChild && list.firstChild.classList && list.firstChild.classList.contains("muted")) list.replaceChildren();
    list.prepend(inboxItem(n, true));
    handle(n);
  };
  for (const kind of ["score.updated", "task.assigned", "task.submitted", "task.approved", "task.returned", "task.overdue",
    "task.cancelled", "task.rescheduled", "skp.approved", "feedback.posted", "innovation.approved", "discipline.alert", "discipline.withdrawn",
    "skp.submitted", "task.proposed", "innovation.proposed", "correction.requested", "correction.decided", "leave.requested",
    "leave.decided", "mail.failing", "mail.failed", "mail.recovered"]) es.addEventListener(kind, onEvent);
  es.onmessage = onEvent;
}
const pending = new Map();
function soon(key, fn) {  // coalesce bursts of events into one re-fetch
  if (pending.has(key)) return;
  pending.set(key, setTimeout(() => { pending.delete(key); fn(); }, 150));
}
function handle(n) {
  const p = n.payload || {};
  const aboutMe = n.audience === "asn" || n.subject_nip === state.me.nip;
  if (n.kind === "score.updated") {
    if (aboutMe && (!p.period || p.period === state.period)) {
      soon("score", () => loadScore(false));
      soon("today", loadToday);
    }
    if (!aboutMe && $("view-team").dataset.loaded) soon("team", async () => { await loadTeam(); loadAbsent(); });
  }
  if (n.kind.startsWith("task.")) {
    if (aboutMe) soon("tasks", loadTasks);
    if ($("view-team").dataset.loaded) soon("approvals", loadApprovals);
  }
}

// -- boot ---------------------------------------------------------------------------------------
function signIn(reason) {
  for (const k of [TOKEN_KEY, REFRESH_KEY, ID_TOKEN_KEY]) sessionStorage.removeItem(k);
  if (state.stream) state.stream.close();
  for (const id of ["view-asn", "view-team", "view-admin", "tabs", "period-bar", "signout"]) $(id).hidden = true;
  $("signin").hidden = false;
  if (reason) $("signin-reason").textContent = reason;
  setLive("off", "Tidak terhubung");
}

const VIEWS = {
  asn: { label: "Kinerja saya", id: "view-asn", load: async () => { await loadInbox(); await Promise.all([loadScore(false), loadToday(), loadTasks(), loadRatings(), loadTraining()]); } },
  team: { label: "Tim saya", id: "view-team", load: async () => { await loadTeam(); await Promise.all([loadApprovals(), loadAbsent(), loadGaps()]); } },
  admin: { label: "Instansi", id: "view-admin", load: () => Promise.all([loadDistribution(), loadRecap(), loadDevices()]) },
};
function viewsFor(role) {
  if (role === "atasan") return ["team", "asn"];
  if (role === "admin") return ["admin", "team", "asn"];  // roles compose: the head of an agency supervises too
  if (role === "operator") return ["admin"];
  return ["asn"];
}
async function show(name) {
  for (const [key, v] of Object.entries(VIEWS)) $(v.id).hidden = key !== name;
  for (const b of $("tabs").children) b.setAttribute("aria-selected", String(b.dataset.view === name));
  const node = $(VIEWS[name].id);
  if (!node.dataset.loaded) { node.dataset.loaded = "1"; await VIEWS[name].load(); }
}

async function boot() {
  takeTokenFromFragment();
  $("token-submit").addEventListener("click", () => {
    const tok = $("token-input").value.trim();
    if (tok) { sessionStorage.setItem(TOKEN_KEY, tok); location.reload(); }
  });
  $("signout").addEventListener("click", signOut);
  $("oidc-signin").hidden = !OIDC;
  $("oidc-signin").addEventListener("click", startOidcSignIn);
  if (OIDC) {
    const back = await finishOidcSignIn();
    if (back && back.error) return signIn(back.error);
  }
  $("recap-csv").addEventListener("click", () => downloadRecap("csv"));
  $("doc-quarter").addEventListener("click", () => downloadDocument("quarter"));
  $("doc-year").addEventListener("click", () => downloadDocument("year"));
  $("inbox-read-all").addEventListener("click", markAllRead);
  $("recap-xlsx").addEventListener("click", () => downloadRecap("xlsx"));
  state.token = sessionStorage.getItem(TOKEN_KEY);
  const claims = state.token && claimsOf(state.token);
  if (!claims) return signIn();
  if (claims.exp && claims.exp * 1000 < Date.now()) return signIn("Sesi berakhir; silakan masuk lagi.");
  if (claims.role === "device") return signIn("Token mesin presensi tidak dapat membuka dasbor.");
  // role, agency and NIP as the services read the token (an identity provider's claims are mapped there)
  const me = await api("notifikasi", "/api/v1/me");
  if (!me.ok) return signIn(me.status === 401 ? "Token tidak sah; silakan masuk lagi." : "Token ini tidak dapat membuka dasbor.");
  state.me = { nip: me.data.nip || null, role: me.data.role, agency: me.data.agency };
  // "today", the period and every clock shown in the agency's own zone (an operator, who works
  // across agencies, keeps the deployment's)
  if (state.me.role !== "operator") {
    const zone = await api("kehadiran", "/api/v1/agency-settings");
    if (zone.ok && zone.data && zone.data.timezone) TZ = zone.data.timezone;
  }
  const requested = new URLSearchParams(location.search).get("period");
  state.period = /^\d{4}-\d{2}$/.test(requested || "") ? requested : todayLocal().slice(0, 7);
  $("who").textContent = `${state.me.nip ? "NIP " + state.me.nip : me.data.sub} · ${ROLE_LABEL[state.me.role] || state.me.role} · ${state.me.agency}`;
  $("signout").hidden = false;
  $("period-bar").hidden = false;
  $("period-label").textContent = periodName(state.period);
  $("score-period").textContent = periodName(state.period);
  const views = viewsFor(state.me.role).filter((v) => (v !== "asn" && v !== "team") || state.me.nip);
  const tabs = $("tabs");
  tabs.replaceChildren(...views.map((v) => {
    const b = el("button", { "data-view": v, role: "tab", text: VIEWS[v].label });
    b.addEventListener("click", () => show(v));
    return b;
  }));
  tabs.hidden = views.length < 2;
  await show(views[0]);
  if (state.me.nip) connectStream();
  keepFresh();
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", boot);
