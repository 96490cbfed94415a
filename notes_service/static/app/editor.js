// The open note, edited where it is read: it saves itself ~1 s after typing stops (If-Match), keeps
// unsaved text in localStorage until the server has it, retries with backoff while offline, and
// merges a change made elsewhere into unsaved text (merge.js) or asks which to keep.
import { ApiError, createNote, csrfToken, getNote, renderMarkdown, updateNote } from "./api.js";
import { keep, keptOf, forget, showKept, sides } from "./kept.js";
import { merge3 } from "./merge.js";

const QUIET_MS = 1000;
const OFFLINE = "Not saved — offline, retrying";
const draftKey = (id) => `notes-app:draft:${id ?? "new"}`;
// A textarea gives "\n" where a form stored "\r\n": compared as the same text, or merely opening a
// note made by a form would count as an edit (and save it).
const joined = ({ title, content }) => `${title}\n${content}`.replace(/\r\n?/g, "\n");
const split = (text) => { const at = text.indexOf("\n"); return { title: text.slice(0, at), content: text.slice(at + 1) }; };
const tagsOf = (text) => text.split(/[\s,]+/).map((tag) => tag.replace(/^#/, "")).filter(Boolean);
const TASK = /^([ \t]*(?:[-+*]|\d+[.)])[ \t]+)\[([ xX])\]/;

// The content with the `index`-th task box (in document order, outside fenced code) ticked or not.
export function toggleTask(content, index, done) {
  let fence = null, seen = 0;
  return content.split("\n").map((line) => {
    const mark = line.match(/^\s*(`{3,}|~{3,})/);
    if (mark && (!fence || mark[1][0] === fence[0] && mark[1].length >= fence.length)) {
      fence = fence ? null : mark[1];
      return line;
    }
    if (fence || !TASK.test(line)) return line;
    return seen++ === index ? line.replace(TASK, (_, lead) => `${lead}[${done ? "x" : " "}]`) : line;
  }).join("\n");
}

export class NoteEditor {
  // `page`: the server's rendered note of this page, when it has one: it becomes the reading view.
  constructor(root, { onSaved, onCreated, onClose, page }) {
    Object.assign(this, { root, onSaved, onCreated, onClose });
    root.innerHTML = `
      <div class="app-toolbar">
        <button type="button" class="link app-back" data-close>← Notes</button>
        <span class="app-status" role="status" aria-live="polite"></span>
        <button type="button" class="secondary" data-pin aria-pressed="false" hidden>Pin</button>
        <button type="button" class="secondary" data-kept hidden>Kept versions</button>
        <button type="button" class="secondary" data-preview>Edit</button>
        <form class="inline" method="post" data-trash hidden>
          <input type="hidden" name="csrf_token"><button type="submit" class="danger">Move to trash</button>
        </form>
      </div>
      <label class="visually-hidden" for="app-title">Title</label>
      <input id="app-title" class="app-title" type="text" maxlength="200" placeholder="Title" autocomplete="off">
      <label class="visually-hidden" for="app-tags">Tags</label>
      <input id="app-tags" class="app-tags" type="text" maxlength="900" placeholder="Tags: work ideas" autocomplete="off" hidden>
      <label class="visually-hidden" for="app-content">Content</label>
      <textarea id="app-content" class="app-content" placeholder="Write here — Markdown works"></textarea>
      <div class="content markdown app-preview" hidden></div>
      <div class="app-conflict" hidden></div>
      <div class="app-kept" hidden></div>`;
    this.title = root.querySelector(".app-title");
    this.content = root.querySelector(".app-content");
    this.preview = root.querySelector(".app-preview");
    if (page) { page.classList.add("app-preview"); this.preview.replaceWith(page); this.preview = page; }
    this.conflictBox = root.querySelector(".app-conflict");
    this.keptBox = root.querySelector(".app-kept");
    this.keptButton = root.querySelector("[data-kept]");
    this.keptButton.addEventListener("click", () => {
      if (!this.keptBox.hidden) { this.keptBox.hidden = true; return; }
      showKept(this.keptBox, this.note.id, this.inputs(), (version, index) => this.restore(version, index));
    });
    this.status = root.querySelector(".app-status");
    this.previewButton = root.querySelector("[data-preview]");
    // Pin and tags save at once (If-Match, as the text does), each on its own: no text goes with them.
    this.pin = root.querySelector("[data-pin]");
    this.pin.addEventListener("click", () => this.setMeta({ is_pinned: !this.note.is_pinned }));
    this.tags = root.querySelector(".app-tags");
    this.tags.addEventListener("change", () => this.setMeta({ tags: tagsOf(this.tags.value) }));
    this.tags.addEventListener("keydown", (event) => { if (event.key === "Enter") this.tags.blur(); });
    // Moving to the trash is the page's own form (its flash offers Undo), posted from here.
    this.trash = root.querySelector("[data-trash]");
    this.trash.addEventListener("submit", async (event) => {
      if (this.trash.csrf_token.value) return;
      event.preventDefault();
      this.trash.csrf_token.value = await csrfToken();
      this.trash.submit();
    });
    for (const field of [this.title, this.content]) field.addEventListener("input", () => this.typed());
    this.previewButton.addEventListener("click", () => this.showPreview(!this.previewing));
    // Reading and writing in one place: a click on the text (not on a link or a box) edits it.
    this.preview.addEventListener("click", (event) => {
      if (!event.target.closest("a, input, label") && !getSelection().toString()) this.edit();
    });
    root.querySelector("[data-close]").addEventListener("click", () => this.onClose());
    this.preview.addEventListener("change", (event) => this.ticked(event.target));
    addEventListener("online", () => { if (this.retry) this.saveNow(); });
    addEventListener("pagehide", () => { if (this.dirty()) this.saveNow(); });
    this.delay = 1000;
    this.load(null);
  }

  inputs() { return { title: this.title.value, content: this.content.value }; }
  dirty() { return joined(this.inputs()) !== joined(this.base); }
  say(text) { this.status.textContent = text; }

  // Show `note` (null: a new one), or this browser's unsaved text of it merged with it.
  load(note, html) {
    clearTimeout(this.timer); clearTimeout(this.retry); this.retry = null;
    this.opened = (this.opened ?? 0) + 1; // a save still under way for the last note leaves this one be
    this.note = note; this.conflict = null; this.remote = null;
    this.base = note ? { title: note.title, content: note.content } : { title: "", content: "" };
    this.conflictBox.hidden = this.keptBox.hidden = true;
    this.setInputs(this.base);
    this.root.dataset.noteId = note?.id ?? "new";
    this.showTrash();
    this.say(note ? "Saved" : "");
    const draft = JSON.parse(localStorage.getItem(draftKey(note?.id)) ?? "null");
    if (draft && joined(draft) !== joined(this.base)) {
      this.setInputs(draft);
      if (note && draft.version < note.version) {
        this.base = draft.base;
        this.integrate(note);
      } else this.schedule(0);
    }
    if (note && html !== undefined && !this.dirty()) this.showPreview(true, html);
    else this.showPreview(Boolean(note) && !this.dirty());
  }

  edit() {
    this.showPreview(false);
    this.content.focus();
  }

  // The buttons of a saved note (pin, tags, trash), showing its pin and tags as they are now.
  showTrash() {
    this.pin.hidden = this.tags.hidden = !this.note;
    if (this.note) {
      this.pin.textContent = this.note.is_pinned ? "Unpin" : "Pin";
      this.pin.setAttribute("aria-pressed", String(this.note.is_pinned));
      if (document.activeElement !== this.tags) this.tags.value = (this.note.tags ?? []).join(" ");
    }
    const kept = this.note && !this.conflict ? keptOf(this.note.id).length : 0;
    this.keptButton.hidden = !kept;
    this.keptButton.textContent = `Kept versions (${kept})`;
    this.trash.hidden = !this.note;
    if (this.note) this.trash.action = `/notes/${this.note.id}/delete`;
    this.trash.csrf_token.value = document.querySelector("input[name=csrf_token]")?.value ?? "";
  }

  setInputs({ title, content }) {
    const field = this.content, old = field.value, at = field.selectionStart;
    this.title.value = title;
    if (old === content) return;
    let same = 0;
    while (same < old.length && old[same] === content[same]) same++;
    field.value = content;
    if (document.activeElement === field) {
      const cursor = at <= same ? at : Math.max(same, at + content.length - old.length);
      field.setSelectionRange(cursor, cursor);
    }
  }

  keepDraft() {
    const key = draftKey(this.note?.id);
    if (!this.dirty() && !this.conflict) { localStorage.removeItem(key); return; }
    localStorage.setItem(key, JSON.stringify({ ...this.inputs(), base: this.base, version: this.note?.version ?? 0 }));
  }

  typed() {
    this.keepDraft();
    if (!this.retry) this.say("");
    this.schedule(QUIET_MS);
  }

  schedule(ms) { clearTimeout(this.timer); this.timer = setTimeout(() => this.save(), ms); }
  saveNow() { clearTimeout(this.retry); this.retry = null; this.schedule(0); }

  async save() {
    if (this.saving) { this.again = true; return; }
    if (this.conflict || !this.dirty()) return;
    if (!this.content.value.trim()) { this.say(this.note ? "Not saved — a note needs some text" : ""); return; }
    if (!this.title.value.trim()) this.title.value = "Untitled";
    const sent = this.inputs();
    this.saving = true;
    this.say("Saving…");
    const opened = this.opened;
    try {
      const fresh = !this.note;
      const note = fresh ? await createNote(sent) : await updateNote(this.note, sent);
      if (fresh) localStorage.removeItem(draftKey(null));
      // Another note is open now: this one's draft is merged away when it is opened again.
      if (opened === this.opened) this.saved(note, sent, fresh);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (opened !== this.opened) {
        // another note is open now; this one's text waits in localStorage
      } else if (error.offline) {
        this.say(OFFLINE);
        this.retry = setTimeout(() => { this.retry = null; this.save(); }, this.delay);
        this.delay = Math.min(this.delay * 2, 30_000);
      } else if (error.status === 412) {
        this.remote = await getNote(this.note.id).catch(() => null);
      } else if (error.status === 404) {
        this.say("Not saved — this note is in the trash; your text is kept in this browser");
      } else {
        this.say(`Not saved — ${Object.values(error.body?.details ?? {})[0] ?? error.message}`);
      }
    } finally {
      this.saving = false;
    }
    const remote = this.remote;
    this.remote = null;
    if (remote) this.changedElsewhere(remote);
    if (this.again) { this.again = false; this.save(); }
  }

  saved(note, sent, fresh) {
    this.note = note; this.base = sent; this.delay = 1000; this.retry = null;
    this.root.dataset.noteId = note.id;
    this.showTrash();
    this.keepDraft();
    this.say(this.dirty() ? "" : "Saved");
    (fresh ? this.onCreated : this.onSaved)(note);
    if (this.dirty()) this.schedule(QUIET_MS);
  }

  // Pin or tag the open note: on a 412 (changed elsewhere) the change goes onto the latest version,
  // whose text is merged into the editor's as any change from elsewhere is.
  async setMeta(fields) {
    const opened = this.opened, id = this.note.id; // another note may be opened meanwhile
    this.say("Saving…");
    try {
      let note;
      try {
        note = await updateNote(this.note, fields);
      } catch (error) {
        if (error?.status !== 412) throw error;
        const latest = await getNote(id);
        if (opened === this.opened) this.changedElsewhere(latest);
        note = await updateNote(latest, fields);
      }
      if (opened !== this.opened) return;
      if (note.version > this.note.version) this.note = note; // else the stream was first with it
      this.showTrash();
      this.say(this.dirty() ? "" : "Saved");
      this.onSaved(note);
    } catch (error) {
      if (!(error instanceof ApiError) || opened !== this.opened) return;
      this.showTrash();
      this.say(error.offline ? "Not saved — offline" : `Not saved — ${Object.values(error.body?.details ?? {})[0] ?? error.message}`);
    }
  }

  // A change of a note from the stream (or found by a refused save).
  changedElsewhere(note) {
    if (!this.note || note.id !== this.note.id || note.version <= this.note.version) return;
    if (this.saving) { this.remote = note; return; }
    if (note.deleted_at) { this.say("Moved to the trash elsewhere — your text is kept in this browser"); return; }
    this.integrate(note);
  }

  integrate(theirs) {
    const mine = this.inputs(), base = this.base;
    this.note = theirs;
    this.showTrash();
    this.base = { title: theirs.title, content: theirs.content };
    const merged = merge3(joined(base), joined(mine), joined(theirs));
    if (!merged.clean) { this.showConflict(mine, theirs); return; }
    if (merged.text !== joined(mine) && joined(mine) !== joined(base)) {
      keep(theirs.id, mine, "Your text before a change from elsewhere was merged into it");
      this.showTrash();
    }
    this.setInputs(split(merged.text));
    this.keepDraft();
    if (this.previewing) this.showPreview(true);
    if (this.dirty()) this.schedule(0); else this.say("Saved");
  }

  showConflict(mine, theirs) {
    this.conflict = { mine, theirs };
    this.showTrash();
    this.setInputs(mine);
    this.keepDraft();
    this.say("Changed elsewhere — choose what to keep");
    const box = this.conflictBox;
    box.replaceChildren();
    const heading = document.createElement("p");
    heading.textContent = "This note was changed elsewhere while you were writing. Both versions:";
    const table = sides(["Yours", joined(mine)], ["Saved elsewhere", joined(theirs)]);
    const actions = document.createElement("div");
    actions.className = "actions";
    for (const [choice, label] of [["mine", "Keep mine"], ["theirs", "Keep theirs"], ["both", "Keep both as two notes"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.choose = choice;
      button.textContent = label;
      button.addEventListener("click", () => this.choose(choice));
      actions.append(button);
    }
    box.append(heading, table, actions);
    box.hidden = false;
  }

  async choose(choice) {
    const { theirs } = this.conflict, mine = this.inputs(); // with what was typed since
    if (choice === "both") {
      try {
        const copy = await createNote({ title: `${mine.title} (my version)`.slice(0, 200), content: mine.content });
        this.onCreated(copy, false);
      } catch { this.say(OFFLINE); return; } // still in conflict: nothing lost, try again
    }
    // The version not chosen stays in this browser (nothing typed is lost, whatever is chosen).
    if (choice === "mine") keep(this.note.id, theirs, "Saved elsewhere, not chosen");
    if (choice === "theirs") keep(this.note.id, mine, "Yours, not chosen");
    this.conflict = null;
    this.conflictBox.hidden = true;
    this.showTrash();
    this.setInputs(choice === "mine" ? mine : theirs);
    this.keepDraft();
    if (this.dirty()) this.saveNow(); else this.say("Saved");
  }

  // Put a kept version back in the editor and save it; the text it replaces is kept in its place.
  restore(version, index) {
    if (this.conflict) return;
    forget(this.note.id, index);
    keep(this.note.id, this.inputs(), "Replaced by a restored version");
    this.keptBox.hidden = true;
    this.setInputs(version);
    this.showPreview(false);
    this.showTrash();
    this.keepDraft();
    this.saveNow();
  }

  // The reading view (the note as its page shows it) or the text to edit.
  async showPreview(on, html) {
    this.previewing = on;
    this.previewButton.textContent = on ? "Edit" : "Preview";
    this.content.hidden = on;
    this.preview.hidden = !on;
    if (!on) return;
    try { // sanitized by the server, as on the note's page
      this.preview.innerHTML = html ?? await renderMarkdown(this.content.value || " ");
    } catch { this.preview.textContent = this.content.value; }
    for (const box of this.preview.querySelectorAll("input[type=checkbox]")) box.disabled = false;
  }

  ticked(box) {
    const boxes = [...this.preview.querySelectorAll("input[type=checkbox]")];
    const index = boxes.indexOf(box);
    if (index < 0) return;
    this.content.value = toggleTask(this.content.value, index, box.checked);
    this.keepDraft();
    this.saveNow();
  }

  leave() {
    if (document.activeElement === this.content || document.activeElement === this.title) document.activeElement.blur();
    this.showPreview(true);
  }
}
