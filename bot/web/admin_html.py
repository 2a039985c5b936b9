"""The admin page's HTML: one layout, tables, escaping. Server-rendered, no build step."""

from __future__ import annotations

import html
from collections.abc import Sequence

from fastapi.responses import HTMLResponse

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
header { background: #24292f; color: #fff; padding: 10px 24px; display: flex; gap: 24px;
  align-items: center; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header form { margin-left: auto; }
main { padding: 16px 24px; max-width: 1200px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px;
  margin-bottom: 16px; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2;
  vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 8px; }
.count { border: 1px solid #d0d7de; border-radius: 12px; padding: 2px 10px; }
.count b { margin-left: 4px; }
.dead, .error { color: #cf222e; } .flash { background: #dafbe1; padding: 6px 10px; }
.bar { background: #0969da; height: 10px; display: inline-block; }
button { cursor: pointer; }
svg text { font: 12px system-ui, sans-serif; }
"""


def escape(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, status: int = 200, logout: str = "") -> HTMLResponse:
    """A whole page: the header (links, sign-out form when signed in) and `body`."""
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Triad admin</title><style>{_STYLE}</style></head>
<body><header><a href="/admin">Triad admin</a><a href="/admin#workflows">Workflows</a>
<a href="/admin#spend">Spend</a><a href="/admin#queue">Queue</a>
<a href="/admin#deliveries">Deliveries</a>{logout}</header>
<main><h1>{escape(title)}</h1>
{body}
</main></body></html>"""
    return HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    empty: str = "None.",
    id: str | None = None,
) -> str:
    """A table whose cells are already HTML (escape text with `escape` first)."""
    if not rows:
        return f"<p>{escape(empty)}</p>"
    head = "".join(
        f'<th class="num">{escape(c)}</th>' if i in numeric else f"<th>{escape(c)}</th>"
        for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    attribute = f' id="{escape(id)}"' if id else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def counts(items: Sequence[tuple[str, int]], css: dict[str, str] | None = None) -> str:
    """Small labelled counters, e.g. jobs by state."""
    css = css or {}
    return (
        '<div class="counts">'
        + "".join(
            f'<span class="count {escape(css.get(name, ""))}" data-name="{escape(name)}">'
            f"{escape(name)}<b>{n}</b></span>"
            for name, n in items
        )
        + "</div>"
    )


def link(href: str | None, text: object) -> str:
    if not href:
        return escape(text)
    return f'<a href="{escape(href)}">{escape(text)}</a>'
