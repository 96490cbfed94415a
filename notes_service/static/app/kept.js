// Versions of a note kept in this browser (localStorage `notes-app:kept:<id>`, newest first, at most
// KEEP): the one not chosen after "Keep mine"/"Keep theirs", and the person's text as it was before
// a change from elsewhere (or their own offline edit) was merged into it. Each can be seen beside
// the text now, with its differences marked, and restored; nothing typed is lost.
import { sideBySide } from "./merge.js";

const KEEP = 10;
const keyOf = (id) => `notes-app:kept:${id}`;
const joined = ({ title, content }) => `${title}\n${content}`;

export function keptOf(id) {
  try { return JSON.parse(localStorage.getItem(keyOf(id)) ?? "[]"); } catch { return []; }
}

// Keep `version` ({title, content}) of note `id`, saying `why`; the same text twice is kept once.
export function keep(id, { title, content }, why) {
  const versions = keptOf(id).filter((each) => joined(each) !== joined({ title, content }));
  versions.unshift({ title, content, why, at: new Date().toISOString() });
  localStorage.setItem(keyOf(id), JSON.stringify(versions.slice(0, KEEP)));
}

export function forget(id, index) {
  const versions = keptOf(id);
  versions.splice(index, 1);
  if (versions.length) localStorage.setItem(keyOf(id), JSON.stringify(versions));
  else localStorage.removeItem(keyOf(id));
}

const element = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

// Two texts side by side under their labels, the differing lines and words marked.
export function sides([leftLabel, left], [rightLabel, right]) {
  const table = element("div", "app-sides");
  table.append(element("strong", "", leftLabel), element("strong", "", rightLabel));
  for (const row of sideBySide(left, right)) {
    for (const parts of [row.left, row.right]) {
      const cell = element("div", `app-line ${row.kind}`);
      cell.append(...parts.map(([text, marked]) => element(marked ? "mark" : "span", "", text)));
      table.append(cell);
    }
  }
  return table;
}

// The kept versions of note `id` in `box`, each beside `now` (the text in the editor), with
// "Restore" (onRestore(version, index)) and "Discard".
export function showKept(box, id, now, onRestore) {
  const versions = keptOf(id);
  box.replaceChildren();
  box.hidden = !versions.length;
  versions.forEach((version, index) => {
    const entry = element("details", "app-kept-version");
    entry.open = index === 0;
    const when = new Date(version.at).toLocaleString();
    entry.append(element("summary", "", `${version.why} — ${when}`));
    const table = sides(["Kept", joined(version)], ["Now", joined(now)]);
    const restore = element("button", "", "Restore this version");
    restore.type = "button";
    restore.addEventListener("click", () => onRestore(version, index));
    const discard = element("button", "secondary", "Discard");
    discard.type = "button";
    discard.addEventListener("click", () => { forget(id, index); showKept(box, id, now, onRestore); });
    const actions = element("div", "actions");
    actions.append(restore, discard);
    entry.append(table, actions);
    box.append(entry);
  });
}
