"""The report's HTML: the page and its style sheet, tables, figures, notes (no JavaScript).

Everything is inline: the CSS in a `<style>` element, each plot an `<svg>` inside
`<figure class="plot" data-plot="NAME">`, so one file opens anywhere, offline. Text is escaped
here; a `Raw` string is HTML already.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tasks.engine.runs import is_number

CSS = """
:root {
  --ink: #1f2328; --dim: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da;
  --good: #1a7f37; --bad: #cf222e;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 22px; margin: 40px 0 8px; padding-top: 16px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 8px; }
h4 { font-size: 14px; margin: 12px 0 4px; color: var(--dim); }
p { margin: 4px 0 10px; }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
.meta, .note, figcaption { color: var(--dim); font-size: 13px; }
.note { padding: 6px 10px; background: var(--soft); border-left: 3px solid var(--line); }
nav ul { margin: 6px 0 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 4px 0 12px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { font-weight: 600; background: #fff8c5; }
tr.changed td:first-child::after { content: " *"; color: var(--accent); }
td.better { color: var(--good); }
td.worse { color: var(--bad); }
.wide { overflow-x: auto; }
.settings { columns: 3 250px; column-gap: 24px; }
.settings table { break-inside: avoid; width: 100%; }
.settings caption { text-align: left; font-weight: 600; font-size: 13px; padding: 4px 0; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
         gap: 16px; align-items: start; }
figure.plot { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px;
              background: #fff; }
figure.plot svg { display: block; width: 100%; height: auto; }
figure.plot svg image { image-rendering: pixelated; }
figure.plot.small { max-width: 460px; }
figcaption { margin-top: 4px; }
.sample pre { white-space: pre-wrap; background: var(--soft); padding: 8px 10px;
              border-radius: 6px; font-size: 13px; margin: 0 0 12px; }
"""
"""The style sheet: a light theme, numbers right-aligned in tables, plots in a grid."""


class Raw(str):
    """A string that is HTML already (not escaped again)."""


def esc(value: Any) -> str:
    """`value` as HTML text (a `Raw` stays as it is)."""
    return value if isinstance(value, Raw) else html.escape(str(value))


def fmt(value: Any) -> str:
    """A number for a table: integers with thousands separators, floats to 4 significant
    digits (no decimals from 1,000 up), None as a dash, booleans as yes/no."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    row_classes: Sequence[str] | None = None,
    cell_classes: dict[tuple[int, int], str] | None = None,
    caption: str = "",
) -> Raw:
    """A table: numbers (`is_number`) formatted and right-aligned, as is the heading of a
    column holding only numbers; `row_classes` per row, `cell_classes` per (row, column)."""
    rows = [list(r) for r in rows]
    numeric = [
        bool(rows) and all(is_number(r[c]) or r[c] is None for r in rows)
        for c in range(len(headers))
    ]
    num = ' class="num"'
    head = "".join(f"<th{num if numeric[c] else ''}>{esc(h)}</th>" for c, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            classes = ["num"] if is_number(value) or numeric[c] else []
            if cell_classes and (i, c) in cell_classes:
                classes.append(cell_classes[(i, c)])
            attr = f' class="{" ".join(classes)}"' if classes else ""
            text = fmt(value) if value is None or isinstance(value, int | float) else esc(value)
            cells.append(f"<td{attr}>{text}</td>")
        cls = row_classes[i] if row_classes else ""
        attr = f' class="{cls}"' if cls else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Raw(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def figure(
    name: str, svg: str, caption: str = "", *, run: int | None = None, small: bool = False
) -> Raw:
    """One plot: ``<figure class="plot" data-plot="NAME">`` holding its `<svg>`."""
    attrs = f' data-run="{run}"' if run is not None else ""
    cls = "plot small" if small else "plot"
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return Raw(f'<figure class="{cls}" data-plot="{esc(name)}"{attrs}>{svg}{cap}</figure>')


def plot_grid(figures: Sequence[str]) -> Raw:
    """Figures in the responsive grid."""
    return Raw(f'<div class="plots">{"".join(figures)}</div>')


def note(text: str) -> Raw:
    """A dim remark, e.g. why a picture is missing."""
    return Raw(f'<p class="note">{esc(text)}</p>')


def _inline(text: str) -> str:
    """Markdown's **bold** and *italic* in one escaped line."""
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc(text))
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)


def sample(title: str, markdown: str) -> Raw:
    """A generated sample under its title: its markdown's ``` blocks kept as written (line
    breaks, spaces), the lines between them as paragraphs (bold and italic read)."""
    parts = markdown.split("```")
    blocks = []
    for i, part in enumerate(parts):
        if i % 2:  # inside a fence: the language line and the last line break dropped
            code = part.partition("\n")[2].rstrip("\n")
            blocks.append(f"<pre>{esc(code)}</pre>")
        else:
            blocks += [f"<p>{_inline(p.strip())}</p>" for p in part.split("\n\n") if p.strip()]
    return Raw(f'<div class="sample"><h4>{esc(title)}</h4>{"".join(blocks)}</div>')


def page(
    title: str, subtitle: str, contents: Sequence[tuple[str, str]], sections: Sequence[str]
) -> str:
    """The whole document: a heading, a list of contents ((anchor, text) each), the sections."""
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in contents)
    nav = f"<nav><ul>{toc}</ul></nav>" if len(contents) > 1 else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header><h1>{esc(title)}</h1><p class="meta">{esc(subtitle)}</p>{nav}</header>\n'
        + "\n".join(sections)
        + "\n</main>\n</body>\n</html>\n"
    )
