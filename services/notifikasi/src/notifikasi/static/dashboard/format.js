// The dashboard's settings (from config.js), its labels in Bahasa Indonesia, and the small helpers
// every view uses to build nodes and to write scores, dates and times in the agency's zone.
// The dashboard's scripts are plain scripts sharing one scope, loaded in order by index.html.
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
