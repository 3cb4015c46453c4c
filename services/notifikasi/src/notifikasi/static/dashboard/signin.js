// Signing in: a token from the link's fragment or pasted, or OpenID Connect (authorization code +
// PKCE) with the agency's provider, the access token refreshed before it expires; signing out.
"use strict";

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
