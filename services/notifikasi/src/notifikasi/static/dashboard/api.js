// The page's state and the one way it reads the services' APIs (with the token; a route a service
// does not have yet reads as "belum tersedia").
"use strict";

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
