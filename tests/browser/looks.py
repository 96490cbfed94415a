"""What a person sees, measured in the page: elements off-screen, buttons out of line with their
inputs, duplicate ids, the colours of the scheme. Shared by the browser tests and bench/screenshots.py.
"""

from __future__ import annotations

from typing import Any

# Elements sticking out of the viewport (left of 0 or right of its width). Content inside a box that
# scrolls or clips sideways (a code block, a wide table on a phone, the header's nav) is that box's
# business, and visually hidden labels are 1 px and clipped on purpose.
OFF_SCREEN = """
() => {
  const width = document.documentElement.clientWidth;
  const clipped = (element) => {
    for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== "visible" || style.clip !== "auto") return true;
    }
    return false;
  };
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || getComputedStyle(element).clip !== "auto") continue;
    if ((box.right > width + 0.5 || box.left < -0.5) && !clipped(element)) {
      const where = `${Math.round(box.left)}..${Math.round(box.right)}`;
      found.push(`${element.tagName.toLowerCase()}.${element.className} ${where}`);
    }
  }
  const scrolls = document.documentElement.scrollWidth;
  if (scrolls > width) found.push(`page scrolls to ${scrolls}`);
  return found;
}
"""
DUPLICATE_IDS = """
() => {
  const seen = {};
  for (const element of document.querySelectorAll("[id]")) seen[element.id] = (seen[element.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}
"""
# For each one-line form (search box, a settings row), every visible text input and the button on
# its line: their top and bottom edges, and the baseline of their text (an inline-block's baseline
# is its text's, found with a probe span placed beside each).
ROWS = """
() => {
  const baseline = (element) => {
    const probe = document.createElement("span");
    probe.textContent = "x";
    probe.style.cssText = "display:inline-block;width:0;overflow:hidden;vertical-align:baseline";
    const line = document.createElement("div");
    line.style.cssText = "position:absolute;visibility:hidden;left:0;top:0";
    const box = element.getBoundingClientRect();
    const copy = element.cloneNode(true);
    copy.removeAttribute("id");
    copy.style.width = `${box.width}px`;
    line.append(copy, probe);
    element.parentElement.append(line);
    const offset = probe.getBoundingClientRect().bottom - copy.getBoundingClientRect().top;
    line.remove();
    return box.top + offset;
  };
  const rows = [];
  for (const form of document.querySelectorAll("form.search, form.row")) {
    const inputs = [...form.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), textarea")];
    const button = form.querySelector("button");
    if (!button || !inputs.length) continue;
    const b = button.getBoundingClientRect();
    for (const input of inputs) {
      const i = input.getBoundingClientRect();
      if (i.bottom <= b.top || b.bottom <= i.top) continue;  // not on the button's line
      rows.push({form: form.action || form.className, input: [i.top, i.bottom, baseline(input)],
                 button: [b.top, b.bottom, baseline(button)]});
    }
  }
  return rows;
}
"""


def off_screen(page: Any) -> list[str]:
    return list(page.evaluate(OFF_SCREEN))


def duplicate_ids(page: Any) -> list[str]:
    return list(page.evaluate(DUPLICATE_IDS))


def misaligned(page: Any, tolerance: float = 1.0) -> list[dict[str, Any]]:
    """The input/button pairs on one line whose top, bottom or text baseline differ."""
    return [
        row
        for row in page.evaluate(ROWS)
        if any(abs(a - b) > tolerance for a, b in zip(row["input"], row["button"], strict=True))
    ]


def aligned_pairs(page: Any) -> int:
    return len(page.evaluate(ROWS))


def luminance(page: Any, selector: str, prop: str = "backgroundColor") -> float:
    """The relative luminance (0 black … 1 white) of an element's computed colour."""
    rgb = page.locator(selector).first.evaluate(
        f"(e) => getComputedStyle(e).{prop}.match(/[\\d.]+/g).slice(0, 3).map(Number)"
    )
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(page: Any, selector: str) -> float:
    """WCAG contrast of an element's text colour against the page's paper (a card's background)."""
    ink = luminance(page, selector, "color")
    paper = luminance(page, ".card, body", "backgroundColor")
    light, dark = max(ink, paper), min(ink, paper)
    return (light + 0.05) / (dark + 0.05)
