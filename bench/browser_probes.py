"""What bench/browser.py measures inside the page: scripts run in Chromium that time, on the page's own
clock (`performance.now()`, and each input event's `timeStamp` on the same clock), from an input to
the moment the page shows its outcome, and read the page's Resource Timing for where the time went.

Each probe is armed from Python, the input is given through Playwright (real mouse and key events),
and a `MutationObserver` notes the first moment the outcome is in the DOM, then the next animation
frame (the frame it is painted in). Selectors of the app (static/app/) are all here.
"""

from __future__ import annotations

LIST = ".app-notes"
ITEM = ".app-notes li[data-id]"
MORE = ".app-list [data-more]"
SEARCH = "#app-q"
PANE = ".app-editor"
TEXT = ".app-content"

# Before any page script: room for every request's timing, and the probes' shared state.
INIT = """
performance.setResourceTimingBufferSize(100000);
window.__bench = { open: null, search: null, keys: [] };
"""

# The items of the list, in order.
LIST_IDS = "() => [...document.querySelectorAll('.app-notes li[data-id]')].map((li) => Number(li.dataset.id))"

# (1) A click in the list → the note's text visible in the note pane.
ARM_OPEN = """
({ id, text }) => {
  const bench = window.__bench;
  bench.open = { id, text, clicked: null, shown: null, painted: null };
  const note = document.querySelector(".app-note");
  const visible = () => {
    const pane = document.querySelector(".app-editor");
    if (!pane || pane.hidden || pane.dataset.noteId !== String(id)) return false;
    const area = pane.querySelector(".app-content");
    return note.innerText.includes(text) || (area && !area.hidden && area.value.includes(text));
  };
  const check = () => {
    const probe = bench.open;
    if (probe.clicked === null || probe.shown !== null || !visible()) return;
    probe.shown = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => { probe.painted = performance.now(); });
  };
  const observer = new MutationObserver(check);
  observer.observe(note, { subtree: true, childList: true, characterData: true, attributes: true });
  document.addEventListener("click", (event) => {
    if (bench.open.clicked === null) { bench.open.clicked = event.timeStamp; check(); }
  }, { capture: true, once: true });
}
"""
OPEN_DONE = "() => window.__bench.open.painted !== null"
# The request of the note (the last one to its URL): when it started, the server's answer, its end.
OPEN_RESULT = """
() => {
  const probe = window.__bench.open;
  const path = `/app/notes/${probe.id}`;
  const entry = performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname === path).pop();
  return { ...probe, request: entry ? {
    start: entry.startTime, first_byte: entry.responseStart, end: entry.responseEnd,
    queued: entry.requestStart - entry.startTime,
    server: entry.responseStart - entry.requestStart } : null };
}
"""

# (2) Every key typed in the text: its event's time, its input handled, the next frame.
ARM_KEYS = """
() => {
  const bench = window.__bench;
  const area = document.querySelector(".app-content");
  bench.keys = [];
  area.addEventListener("keydown", (event) => {
    bench.keys.push({ down: event.timeStamp, input: null, painted: null });
  }, true);
  area.addEventListener("input", () => {
    const key = bench.keys[bench.keys.length - 1];
    if (!key || key.input !== null) return;
    key.input = performance.now();
    requestAnimationFrame(() => { key.painted = performance.now(); });
  }, true);
}
"""
# The keys, and the saves (PATCH of the note: Resource Timing has them once answered).
KEYS_RESULT = """
(id) => ({
  keys: window.__bench.keys,
  saves: performance.getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname === `/app/notes/${id}`)
    .map((e) => ({ start: e.startTime, end: e.responseEnd })),
})
"""

# (3) Typing a search: the last key → the list showing the final query's first page. Two moments:
# the list first shows those results after the last key (`shown`; at the last key itself when an
# earlier prefix's answer already had them), and the list is drawn from the final query's own answer
# (`answered`: the first change of the list after that request's response ended).
ARM_SEARCH = """
({ query, want, path }) => {
  const bench = window.__bench;
  const input = document.querySelector("#app-q");
  const list = document.querySelector(".app-notes");
  const probe = { query, want, armed: performance.now(), last_key: null, shown: null, painted: null,
                  already: false, changes: [], answered: null, answered_painted: null };
  bench.search = probe;
  const ids = () => [...list.querySelectorAll("li[data-id]")].map((li) => Number(li.dataset.id));
  const final = () => input.value === query && ids().join() === want.join();
  const own = () => performance.getEntriesByType("resource").filter((e) => e.name.endsWith(path)).pop();
  const frame = (key) => requestAnimationFrame(() => { probe[key] = performance.now(); });
  const seen = (already) => {
    if (probe.shown === null) { probe.shown = performance.now(); probe.already = already; frame("painted"); }
  };
  const settle = () => { // the final answer's change, once Resource Timing has that request
    const entry = own();
    const after = entry && probe.changes.find((at) => at >= entry.responseEnd);
    if (after === undefined) { if (probe.answered === null) requestAnimationFrame(settle); return; }
    probe.answered = after;
    observer.disconnect();
    frame("answered_painted");
  };
  const observer = new MutationObserver(() => {
    if (probe.last_key === null || !final()) return;
    probe.changes.push(performance.now());
    seen(false);
    settle();
  });
  observer.observe(list, { subtree: true, childList: true, characterData: true });
  input.addEventListener("keydown", (event) => {
    if (input.value !== query) probe.last_key = event.timeStamp;
  }, true);
  input.addEventListener("input", () => { if (final()) seen(true); });
}
"""
SEARCH_DONE = (
    "() => window.__bench.search.answered_painted !== null && window.__bench.search.painted !== null"
)
# Its requests while typing, and the final query's own (the last one with exactly that `q`).
SEARCH_RESULT = """
(path) => {
  const probe = window.__bench.search;
  const entries = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/app/notes?") && e.name.includes("q=") && e.startTime >= probe.armed);
  const own = entries.filter((e) => e.name.endsWith(path)).pop();
  // Still the final results a moment later: no answer to an earlier query drawn over them.
  const shown = [...document.querySelectorAll(".app-notes li[data-id]")].map((li) => Number(li.dataset.id));
  const still = shown.join() === probe.want.join();
  return { ...probe, changes: probe.changes.length, requests: entries.length, still, own: own ? {
    start: own.startTime, first_byte: own.responseStart, end: own.responseEnd,
    queued: own.requestStart - own.startTime, server: own.responseStart - own.requestStart } : null };
}
"""
