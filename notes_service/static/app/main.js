// The notes pages as an app (SPEC §11): the list and the open note side by side, notes opened in
// place (history.pushState: the URL is the note's, Back works), shortcuts, and live changes from
// the shared `/events` stream. Without JavaScript the server's pages work as they are.
import { listNotes, getNote } from "./api.js";
import { NoteEditor } from "./editor.js";
import { subscribe } from "./live.js";

const main = document.querySelector("main");
const NOTE_PATH = /^\/notes\/(\d+)\/?$/;
const app = document.createElement("div");
app.className = "app";
app.innerHTML = `
  <section class="app-list" aria-label="Notes">
    <div class="app-bar">
      <label class="visually-hidden" for="app-q">Search notes</label>
      <input id="app-q" type="search" placeholder="Search notes  ( / )" maxlength="500" autocomplete="off">
      <button type="button" data-new title="New note (n)">New note</button>
    </div>
    <p class="app-count muted" role="status" hidden></p>
    <ul class="app-notes"></ul>
    <button type="button" class="secondary" data-more hidden>More</button>
  </section>
  <section class="app-note card" aria-label="Note">
    <p class="app-empty muted">Pick a note, or press <kbd>n</kbd> for a new one.</p>
    <div class="app-editor" hidden></div>
  </section>`;
main.append(app);
main.classList.add("app-on");
// The server's tag list (SPEC §11) stays beside the notes: each tag opens its page.
const tagList = main.querySelector(".tag-list");
if (tagList) app.querySelector(".app-list").append(tagList);

const list = app.querySelector(".app-notes");
const search = app.querySelector("#app-q");
const more = app.querySelector("[data-more]");
const count = app.querySelector(".app-count");
const empty = app.querySelector(".app-empty");
const pane = app.querySelector(".app-editor");
let pages = 1;
let openId = null;

const editor = new NoteEditor(pane, {
  onSaved: () => refreshList(),
  onCreated: (note, open = true) => {
    if (open) { openId = note.id; history.replaceState({ id: note.id }, "", `/notes/${note.id}`); }
    refreshList();
  },
  onClose: () => go(null),
  page: document.querySelector(".note-full .content"),
});

const plain = (text) => text.replace(/[#>*_`~[\]|-]+/g, " ").replace(/\s+/g, " ").trim().slice(0, 160);

// The pin of the server's list (templates/_macros.html), drawn the same way.
const PIN = document.createElement("template");
PIN.innerHTML = `<svg class="pin" role="img" aria-label="Pinned" viewBox="0 0 16 16" width="14" height="14" fill="currentColor"><path d="M9.8 1.2a.75.75 0 0 1 1.06 0l3.94 3.94a.75.75 0 0 1 0 1.06l-1.4 1.4a.75.75 0 0 1-.7.2l-1.37-.34-2.2 2.2.4 2.38a.75.75 0 0 1-.21.65l-.7.7a.75.75 0 0 1-1.06 0L5.1 11.07 2.03 14.14a.75.75 0 1 1-1.06-1.06L4.04 10 1.72 7.7a.75.75 0 0 1 0-1.06l.7-.7a.75.75 0 0 1 .65-.21l2.38.4 2.2-2.2-.34-1.37a.75.75 0 0 1 .2-.7z"/></svg> `;

// Text in pieces [[text, marked], …] (the server's excerpt of a search: render/excerpts.py), each
// match a <mark>; all of it set as text.
const pieces = (parts) => parts.map(([text, marked]) => {
  if (!marked) return document.createTextNode(text);
  const mark = document.createElement("mark");
  mark.textContent = text;
  return mark;
});

function item(note, title, excerpt) {
  const li = document.createElement("li");
  li.className = `app-item${note.is_pinned ? " pinned" : ""}${note.id === openId ? " active" : ""}`;
  li.dataset.id = note.id;
  const link = document.createElement("a");
  link.href = `/notes/${note.id}`;
  link.className = "app-item-title";
  if (title) link.append(...pieces(title)); else link.textContent = note.title;
  if (note.is_pinned) link.prepend(PIN.content.cloneNode(true));
  const preview = document.createElement("p");
  preview.className = excerpt ? "app-item-preview excerpt" : "app-item-preview";
  if (excerpt) preview.append(...pieces(excerpt)); else preview.textContent = plain(note.content);
  li.append(link, preview);
  if (note.tags?.length) {
    const tags = document.createElement("p");
    tags.className = "app-item-tags";
    for (const tag of note.tags) {
      const a = document.createElement("a");
      a.href = `/notes?tag=${encodeURIComponent(tag)}`;
      a.textContent = `#${tag}`;
      tags.append(a, " ");
    }
    li.append(tags);
  }
  return li;
}

// The list as the search box asks (a search with its count, a tag's notes, or all notes), the
// first `pages` pages of it. A later call wins over one still under way.
let asked = 0;
async function refreshList() {
  const rows = [];
  const q = search.value.trim(), mine = ++asked;
  let page = 1, answer;
  do {
    answer = await listNotes(page, q).catch(() => null);
    if (!answer || mine !== asked) return; // offline: keep what is shown
    answer.notes.forEach((note, k) => rows.push(item(note, answer.titles?.[k], answer.excerpts?.[k])));
  } while (answer.more && page++ < pages);
  list.replaceChildren(...rows);
  more.hidden = !answer.more;
  count.hidden = answer.count === undefined;
  if (answer.count !== undefined) {
    const shown = Math.min(answer.count, answer.count_cap).toLocaleString("en-US");
    count.textContent = answer.count > answer.count_cap ? `${shown}+ notes` : `${shown} note${answer.count === 1 ? "" : "s"}`;
  }
}
let refreshTimer;
const refreshSoon = () => { clearTimeout(refreshTimer); refreshTimer = setTimeout(refreshList, 100); };

more.addEventListener("click", () => { pages++; refreshList(); });
// The list's own address: /notes, /notes?q=… (a tag as `tag:x` in it, as the server reads it).
function listPath() {
  const q = search.value.trim(), tag = q.match(/^tag:([\p{L}\p{N}_-]+)$/u);
  if (tag) return `/notes?tag=${encodeURIComponent(tag[1])}`;
  return q ? `/notes?q=${encodeURIComponent(q)}` : "/notes";
}
search.addEventListener("input", () => {
  pages = 1;
  if (openId === null) history.replaceState({ id: null }, "", listPath());
  refreshSoon();
});
// A note opens in place; a tag (of a note in the list, or the tag list) searches for it.
app.addEventListener("click", (event) => {
  const link = event.target.closest(".app-list a[href]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button) return;
  const url = new URL(link.href);
  const tag = url.pathname === "/notes" && url.searchParams.get("tag");
  if (tag) {
    event.preventDefault();
    search.value = `tag:${tag}`;
    pages = 1;
    go(null);
    refreshList();
  } else if (link.closest(".app-notes li") && url.pathname.match(NOTE_PATH)) {
    event.preventDefault();
    go(Number(link.closest("li").dataset.id));
  }
});

// Show note `id` (null: none; "new": a new one), and make the URL say so.
async function go(id, { push = true } = {}) {
  if (editor.dirty()) await editor.save(); // offline: its text stays in localStorage until saved
  const path = typeof id === "number" ? `/notes/${id}` : listPath();
  if (push && location.pathname + location.search !== path) history.pushState({ id }, "", path);
  openId = typeof id === "number" ? id : null;
  for (const li of list.children) li.classList.toggle("active", Number(li.dataset.id) === openId);
  app.classList.toggle("has-note", id !== null);
  empty.hidden = id !== null;
  pane.hidden = id === null;
  if (id === null) { editor.load(null); return; }
  if (id === "new") { editor.load(null); editor.title.focus(); return; }
  try {
    const note = await getNote(id);
    if (openId !== id) return; // another note was opened meanwhile
    editor.load(note, note.html);
    document.title = `${note.title} · notes-service`;
  } catch (error) {
    empty.hidden = false;
    pane.hidden = true;
    empty.textContent = error.status === 404 ? "This note is not here (it may be in the trash)." : error.message;
  }
}

// What the address asks of the list: /notes?q=…&tag=… (the server's search and tag pages).
function fromAddress() {
  const params = new URLSearchParams(location.search);
  const tag = params.get("tag");
  const wanted = [params.get("q") ?? "", tag ? `tag:${tag}` : ""].join(" ").trim();
  if (location.pathname.match(NOTE_PATH) || wanted === search.value.trim()) return;
  search.value = wanted;
  pages = 1;
  refreshList();
}

addEventListener("popstate", () => {
  fromAddress();
  const match = location.pathname.match(NOTE_PATH);
  go(match ? Number(match[1]) : null, { push: false });
});
app.querySelector("[data-new]").addEventListener("click", () => go("new"));

addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter") { event.preventDefault(); editor.saveNow(); return; }
  if (event.key === "Escape" && typing && pane.contains(event.target)) { editor.leave(); return; }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") { event.preventDefault(); search.focus(); }
  else if (event.key === "n") { event.preventDefault(); go("new"); }
});

subscribe((kind, data) => {
  if (kind === "note") editor.changedElsewhere(data);
  else if (editor.note && data.id === editor.note.id) editor.say("Deleted elsewhere — your text is kept in this browser");
  refreshSoon();
});

const start = location.pathname.match(NOTE_PATH);
fromAddress();
if (!search.value) refreshList();
go(start ? Number(start[1]) : null, { push: false });
