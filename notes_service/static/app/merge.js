// A compact line and word diff and a three-way merge, written here rather than vendored: the merge
// needs only "which ranges of the base did each side replace" (an LCS over lines, after trimming the
// common head and tail; then over the words of the lines both sides changed), ~140 lines, where
// jsdiff or diff-match-patch would add 8–20 KB gzipped.

const LIMIT = 4_000_000; // cells of the LCS table; past it the changed middle is one replacement

// The edits turning `a` into `b`: [{ start, end, lines }] — a[start:end] replaced by `lines`.
export function diff(a, b) {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head
         && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail), y = b.slice(head, b.length - tail);
  if (!x.length && !y.length) return [];
  if (!x.length || !y.length || x.length * y.length > LIMIT) {
    return [{ start: head, end: head + x.length, lines: y }];
  }
  const n = x.length, m = y.length, w = m + 1;
  const table = new Uint32Array((n + 1) * w); // table[i][j]: LCS length of x[i:], y[j:]
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * w + j] = x[i] === y[j] ? table[(i + 1) * w + j + 1] + 1
        : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
    }
  }
  const edits = [];
  let i = 0, j = 0, open = null;
  const close = () => { if (open) { edits.push(open); open = null; } };
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { close(); i++; j++; continue; }
    open ??= { start: head + i, end: head + i, lines: [] };
    if (j < m && (i >= n || table[i * w + j + 1] >= table[(i + 1) * w + j])) open.lines.push(y[j++]);
    else { i++; open.end = head + i; }
  }
  close();
  return edits;
}

// A text's units for a merge within lines: runs of letters and digits, runs of blanks, line ends,
// and any other character alone — so edits of different words of one line never touch.
const tokens = (text) => text.match(/[\p{L}\p{N}_]+|[^\S\n]+|\n|[^\p{L}\p{N}_\s]/gu) ?? [];

// Lines as text and back: each line with its "\n", so no lines ("") and one empty line ("\n") differ.
const asText = (lines) => lines.map((line) => `${line}\n`).join("");
const asLines = (text) => (text.endsWith("\n") || !text ? text.split("\n").slice(0, -1) : null);

// `base[lo:hi]` with one side's edits (all within it) applied.
function applied(base, lo, hi, edits) {
  const out = [];
  let at = lo;
  for (const edit of edits) { out.push(...base.slice(at, edit.start), ...edit.lines); at = edit.end; }
  return [...out, ...base.slice(at, hi)];
}

// Three-way merge of unit arrays: { clean: true, units } when each region of `base` was changed by
// one side only (or the same way by both), else { clean: false }. Edits overlap when one starts
// inside the other or both start at one place (two insertions there). Where both sides changed
// one region differently, `within(baseRegion, mineRegion, theirsRegion)` may merge it finer.
function mergeUnits(base, mine, theirs, within) {
  const all = [...diff(base, mine).map((e) => ({ ...e, side: 0 })), ...diff(base, theirs).map((e) => ({ ...e, side: 1 }))]
    .sort((p, q) => p.start - q.start || p.end - q.end);
  const out = [];
  let at = 0, k = 0;
  while (k < all.length) {
    const group = [all[k++]];
    let hi = group[0].end;
    while (k < all.length && group.some((g) => all[k].start < g.end || all[k].start === g.start)) {
      hi = Math.max(hi, all[k].end);
      group.push(all[k++]);
    }
    const lo = group[0].start;
    out.push(...base.slice(at, lo));
    at = hi;
    const sides = [0, 1].map((side) => applied(base, lo, hi, group.filter((e) => e.side === side)));
    const [ours, others] = sides;
    const only = group.every((e) => e.side === group[0].side);
    if (only || ours.join("\u0000") === others.join("\u0000")) { out.push(...sides[only ? group[0].side : 0]); continue; }
    const finer = within?.(base.slice(lo, hi), ours, others);
    if (!finer?.clean) return { clean: false };
    out.push(...finer.units);
  }
  return { clean: true, units: [...out, ...base.slice(at)] };
}

// Within lines both sides changed: a merge by word (tokens), back into lines.
function byWord(base, mine, theirs) {
  const merged = mergeUnits(tokens(asText(base)), tokens(asText(mine)), tokens(asText(theirs)));
  const lines = merged.clean ? asLines(merged.units.join("")) : null;
  return lines ? { clean: true, units: lines } : { clean: false };
}

// Three-way merge: { clean: true, text } when the edits of `mine` and `theirs` since `base` touch
// different lines, or different words of a line (or are the same edit), else { clean: false }:
// then they truly overlap, and the person chooses.
export function merge3(base, mine, theirs) {
  if (mine === theirs || theirs === base) return { clean: true, text: mine };
  if (mine === base) return { clean: true, text: theirs };
  const merged = mergeUnits(base.split("\n"), mine.split("\n"), theirs.split("\n"), byWord);
  return merged.clean ? { clean: true, text: merged.units.join("\n") } : { clean: false };
}

// Two texts side by side, the differing lines marked and, within a changed line, the words:
// [{ kind: "same" | "changed", left: [[text, marked]…], right: [[text, marked]…] }] per line pair.
export function sideBySide(left, right) {
  const a = left.split("\n"), b = right.split("\n");
  const rows = [];
  let at = 0;
  const words = (text) => text.split(/(\s+)/).filter(Boolean);
  for (const edit of [...diff(a, b), { start: a.length, end: a.length, lines: [] }]) {
    for (const line of a.slice(at, edit.start)) rows.push({ kind: "same", left: [[line, false]], right: [[line, false]] });
    const removed = a.slice(edit.start, edit.end), added = edit.lines;
    for (let k = 0; k < Math.max(removed.length, added.length); k++) {
      const l = removed[k] ?? "", r = added[k] ?? "";
      const wl = words(l), wr = words(r), changes = diff(wl, wr);
      const markLeft = new Set(), markRight = [];
      let offset = 0;
      for (const c of changes) {
        for (let p = c.start; p < c.end; p++) markLeft.add(p);
        const from = c.start + offset;
        for (let p = 0; p < c.lines.length; p++) markRight.push(from + p);
        offset += c.lines.length - (c.end - c.start);
      }
      const marked = new Set(markRight);
      rows.push({
        kind: "changed",
        left: removed[k] === undefined ? [] : wl.map((t, p) => [t, markLeft.has(p)]),
        right: added[k] === undefined ? [] : wr.map((t, p) => [t, marked.has(p)]),
      });
    }
    at = edit.end;
  }
  return rows;
}
