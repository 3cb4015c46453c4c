// Live updates: notifikasi's SSE stream; each event re-fetches what it concerns, bursts coalesced.
"use strict";

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
