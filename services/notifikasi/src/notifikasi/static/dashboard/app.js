// Kinerja dashboard: plain JS, no build step, no third-party code.
// Reads kehadiran, tugas and penilaian from the browser (CORS) and notifikasi's SSE stream;
// re-fetches what an event concerns, so the page follows the score without reloading.
// Boot: read the token, learn who is signed in and the agency's zone, show the views the role
// opens, then follow the stream. The other scripts (index.html loads them first) hold the rest.
"use strict";

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
