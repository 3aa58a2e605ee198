"""Text that does not fit, found in a real page: the helper the per-language screen tests use.

`overflows(page)` returns every visible HTML element whose text is cut or spills: its content
is wider (or, where it clips, taller) than its box (`cut-x`, `cut-y`), it reaches out of an
ancestor that clips (`clipped`: a wrapped label hidden by its tile), or past the viewport
(`beyond-viewport`), or it sits in a panel that must be scrolled sideways to read it
(`scrolls-x`). Chinese
labels are short and Russian ones long, so each screen is rendered in each language at each of
its sizes and must come back with an empty list. Charts drawn in SVG are left to their library;
content inside a scrolling container (overflow auto/scroll) may scroll and is not counted
beyond the viewport; a page that is meant to scroll down passes `scroll_y=True`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

_FIND = """
({scrollX, scrollY, slack}) => {
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  const out = [];
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      let p = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(p + '#' + e.id); break; }
      if (e.classList.length) p += '.' + [...e.classList].slice(0, 2).join('.');
      parts.unshift(p);
    }
    return parts.join(' > ');
  };
  const ownText = (el) => [...el.childNodes]
    .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim();
  const scrolls = (el) => {
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (/(auto|scroll)/.test(s.overflowX + s.overflowY)) return true;
    }
    return false;
  };
  const clippedBy = (el, r) => {
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
      const s = getComputedStyle(e);
      const x = /(hidden|clip)/.test(s.overflowX), y = /(hidden|clip)/.test(s.overflowY);
      if (!x && !y) continue;
      const c = e.getBoundingClientRect();
      if (x && (r.right > c.right + slack || r.left < c.left - slack)) return true;
      if (y && (r.bottom > c.bottom + slack || r.top < c.top - slack)) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || style.display === 'contents'
        || Number(style.opacity) === 0) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const text = (ownText(el) || el.innerText || '').trim().replace(/\\s+/g, ' ');
    if (!text) continue;
    const own = ownText(el) !== '';
    const block = style.display !== 'inline';
    const scrollable = /(auto|scroll)/.test(style.overflowX);
    const clips = style.overflowX !== 'visible' || style.overflowY !== 'visible';
    const kinds = [];
    if (own && block && !scrollable && el.scrollWidth > el.clientWidth + slack) kinds.push('cut-x');
    if (!scrollX && scrollable && el.scrollWidth > el.clientWidth + slack) kinds.push('scrolls-x');
    if (own && block && clips && !/(auto|scroll)/.test(style.overflowY)
        && el.scrollHeight > el.clientHeight + slack) kinds.push('cut-y');
    if (own && !scrolls(el) && clippedBy(el, r)) kinds.push('clipped');
    if (own && !scrolls(el) && (r.right > vw + slack || r.left < -slack
        || (!scrollY && (r.bottom > vh + slack || r.top < -slack)))) kinds.push('beyond-viewport');
    if (kinds.length) out.push({
      kinds, where: path(el), text: text.slice(0, 80),
      scroll_width: el.scrollWidth, client_width: el.clientWidth,
      scroll_height: el.scrollHeight, client_height: el.clientHeight,
      box: [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)],
      viewport: [vw, vh],
    });
  }
  return out;
}
"""


@dataclass(frozen=True)
class Overflow:
    kinds: tuple[str, ...]
    where: str
    text: str
    scroll_width: int
    client_width: int
    scroll_height: int
    client_height: int
    box: tuple[int, int, int, int]
    viewport: tuple[int, int]

    def __str__(self) -> str:
        size = f"content {self.scroll_width}x{self.scroll_height}"
        box = f"box {self.client_width}x{self.client_height} at {list(self.box)}"
        return f"{'+'.join(self.kinds)}: {self.text!r} ({self.where}; {size}, {box})"


def overflows(
    page: Any, *, scroll_y: bool = False, scroll_x: bool = False, slack: int = 1
) -> list[Overflow]:
    """Every element of `page` (a Playwright page) whose own text is cut or spills; `slack`
    pixels of sub-pixel rounding are forgiven. Unless `scroll_x`, a panel whose text only
    fits by scrolling sideways (a table wider than its panel) counts too (`scrolls-x`)."""
    found = page.evaluate(_FIND, {"scrollX": scroll_x, "scrollY": scroll_y, "slack": slack})
    return [
        Overflow(
            kinds=tuple(f["kinds"]),
            where=f["where"],
            text=f["text"],
            scroll_width=f["scroll_width"],
            client_width=f["client_width"],
            scroll_height=f["scroll_height"],
            client_height=f["client_height"],
            box=tuple(f["box"]),
            viewport=tuple(f["viewport"]),
        )
        for f in found
    ]


def assert_fits(
    page: Any,
    label: str,
    *,
    scroll_y: bool = False,
    scroll_x: bool = False,
    shots: Path | None = None,
) -> None:
    """Fail with every overflowing text named (and a screenshot kept in `shots`, if given)."""
    found = overflows(page, scroll_y=scroll_y, scroll_x=scroll_x)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{label}.png"))
    assert not found, f"{label}: {len(found)} texts do not fit\n" + "\n".join(map(str, found))
