// A compact line and word diff and a three-way merge, written here rather than vendored: the merge
// needs only "which ranges of the base did each side replace" (an LCS over lines, after trimming the
// common head and tail), ~100 lines, where jsdiff or diff-match-patch would add 8–20 KB gzipped.

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

const same = (p, q) => p.start === q.start && p.end === q.end && p.lines.join("\n") === q.lines.join("\n");

// Three-way merge by line: { clean: true, text } when the edits of `mine` and `theirs` since `base`
// touch different lines (or are the same edit), else { clean: false }.
export function merge3(base, mine, theirs) {
  if (mine === theirs || theirs === base) return { clean: true, text: mine };
  if (mine === base) return { clean: true, text: theirs };
  const lines = base.split("\n");
  const ours = diff(lines, mine.split("\n")), other = diff(lines, theirs.split("\n"));
  const all = [...ours.map((e) => ({ ...e, side: 0 })), ...other.map((e) => ({ ...e, side: 1 }))]
    .sort((p, q) => p.start - q.start || p.end - q.end);
  const out = [];
  let at = 0;
  for (let k = 0; k < all.length; k++) {
    const edit = all[k], next = all[k + 1];
    if (next && next.side !== edit.side && (next.start < edit.end || next.start === edit.start)) {
      if (!same(edit, next)) return { clean: false };
      k++; // both made the same edit: take it once
    }
    if (edit.start < at) return { clean: false }; // overlaps an edit already taken
    out.push(...lines.slice(at, edit.start), ...edit.lines);
    at = edit.end;
  }
  out.push(...lines.slice(at));
  return { clean: true, text: out.join("\n") };
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
