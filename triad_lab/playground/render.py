"""The playground's HTML: server-rendered pages, Markdown rendered with HTML escaped."""

from __future__ import annotations

import html
import re
from typing import Any

from markdown_it import MarkdownIt

#: raw HTML off: issue text is untrusted; markdown-it also refuses javascript: links
_MARKDOWN = MarkdownIt("js-default", {"html": False, "linkify": False, "breaks": True})
_MARKER = re.compile(r"<!--.*?-->", re.DOTALL)
#: the only tags Triad's own comments use, put back after escaping (no attributes possible)
_SAFE_TAGS = re.compile(r"&lt;(/?(?:details|summary|sub)|details open)&gt;")
#: code as markdown-it renders it: what is written there is shown, never turned into tags
_CODE = re.compile(r"(<pre[ >].*?</pre>|<code[ >].*?</code>)", re.DOTALL)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
E = html.escape

STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1rem;
 align-items:center}header a{color:#fff;font-weight:600;text-decoration:none}
header form{margin-left:auto}main{max-width:62rem;margin:1rem auto;padding:0 1rem}
.box{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:.8rem 0}
.box>.head{background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:.4rem .8rem;
 font-size:13px;color:#57606a}.box>.text{padding:.2rem .9rem}
.label{display:inline-block;border-radius:2em;padding:0 .6rem;background:#ddf4ff;
 color:#0969da;font-size:12px;margin:0 .2rem;border:1px solid #b6e3ff}
.label button{border:0;background:none;color:#0969da;cursor:pointer;padding:0 0 0 .2rem}
.stage{font-weight:600;color:#8250df}.bot{color:#8250df}
table.diff{border-collapse:collapse;width:100%;font:12px ui-monospace,monospace}
table.diff td{padding:0 .4rem;white-space:pre-wrap;vertical-align:top}
td.no{color:#8c959f;text-align:right;width:3rem}tr.add{background:#e6ffec}
tr.del{background:#ffebe9}tr.hunk{background:#ddf4ff;color:#57606a}
tr.inline td{background:#fff8c5;font:13px system-ui,sans-serif;white-space:normal;
 padding:.4rem .8rem;border:1px solid #d4a72c}
textarea{width:100%;min-height:5rem;font:13px ui-monospace,monospace}
input[type=text]{padding:.3rem;width:22rem}button{cursor:pointer}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.5rem;border-radius:6px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
nav.actions form{display:inline-block;margin:.3rem .5rem .3rem 0}
#labels{margin:.8rem 0}
"""

LIVE_SCRIPT = """
const live = document.getElementById('live');
async function refresh() {
  try {
    const answer = await fetch(live.dataset.url, {cache: 'no-store'});
    if (answer.ok) {
      const text = await answer.text();
      if (text !== live.dataset.last) { live.innerHTML = text; live.dataset.last = text; }
    }
  } catch (e) {}
  setTimeout(refresh, 1000);
}
live.dataset.last = live.innerHTML; setTimeout(refresh, 1000);
"""


def markdown(text: str) -> str:
    """Markdown as HTML; raw HTML in the text is shown escaped, never run."""
    rendered = _MARKDOWN.render(_MARKER.sub("", text or ""))
    pieces = _CODE.split(rendered)  # odd pieces are code
    return "".join(
        piece if index % 2 else _SAFE_TAGS.sub(r"<\1>", piece) for index, piece in enumerate(pieces)
    )


def document(title: str, body: str, *, repo: str, person: str, people: list[dict[str, str]]) -> str:
    options = "".join(
        f"<option value='{E(p['login'])}'{' selected' if p['login'] == person else ''}>"
        f"{E(p['login'])} ({E(p['role'])})</option>"
        for p in people
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{E(title)} · Triad playground</title><style>{STYLE}</style></head><body>"
        f"<header><a href='/'>Triad playground</a><span>{E(repo)}</span>"
        "<form method='post' action='/person'><label>Acting as "
        f"<select name='person' id='person' onchange='this.form.submit()'>{options}</select>"
        "</label><noscript><button>Switch</button></noscript></form></header>"
        f"<main>{body}</main></body></html>"
    )


def labels(items: list[str], number: int | None = None) -> str:
    out = []
    for name in items:
        remove = (
            f"<form method='post' action='/issues/{number}/labels/remove' style='display:inline'>"
            f"<input type='hidden' name='name' value='{E(name)}'>"
            f"<button title='remove {E(name)}' aria-label='remove {E(name)}'>&times;</button>"
            "</form>"
            if number is not None
            else ""
        )
        out.append(f"<span class='label' data-label='{E(name)}'>{E(name)}{remove}</span>")
    return "".join(out)


def workflow_panel(flow: dict[str, Any] | None) -> str:
    if flow is None:
        return "<p id='workflow'>No Triad workflow yet.</p>"
    number = flow.get("pr")
    pr = f" · PR <a id='pr-link' href='/issues/{number}'>#{number}</a>" if number else ""
    issue = f" · issue <a href='/issues/{flow['issue']}'>#{flow['issue']}</a>"
    return (
        f"<p id='workflow'>Workflow stage: <span class='stage' id='stage'>{E(flow['stage'])}"
        f"</span>{issue}{pr} · <span id='cost'>{flow['tokens']:,} tokens, "
        f"${flow['cost']:.3f}</span></p>"
    )


def comment_box(author: str, when: str, body: str, *, extra: str = "") -> str:
    who = f"<b class='bot'>{E(author)}</b>" if author.endswith("[bot]") else f"<b>{E(author)}</b>"
    return (
        f"<div class='box comment' data-author='{E(author)}'><div class='head'>{who} commented "
        f"<time>{E(when)}</time>{extra}</div><div class='text'>{markdown(body)}</div></div>"
    )


def diff(files: list[dict[str, Any]], comments: list[dict[str, Any]]) -> str:
    """Each file's patch with the reviewers' inline comments under the lines they name."""
    out = []
    for file in files:
        beside: dict[int, list[dict[str, Any]]] = {}
        for item in comments:
            if item["path"] == file["path"]:
                beside.setdefault(int(item["line"]), []).append(item)
        rows = []
        new_line = 0
        for line in file["patch"].splitlines():
            hunk = _HUNK.match(line)
            if hunk:
                new_line = int(hunk.group(1))
                rows.append(f"<tr class='hunk'><td class='no'></td><td>{E(line)}</td></tr>")
                continue
            kind = {"+": "add", "-": "del"}.get(line[:1], "ctx")
            number = "" if kind == "del" else str(new_line)
            rows.append(
                f"<tr class='{kind}' data-line='{number}'><td class='no'>{number}</td>"
                f"<td>{E(line)}</td></tr>"
            )
            if kind != "del":
                for item in beside.get(new_line, []):
                    rows.append(
                        f"<tr class='inline' data-line='{new_line}'><td class='no'></td><td>"
                        f"<b>{E(item['author'])}</b> on line {new_line}:"
                        f"{markdown(item['body'])}</td></tr>"
                    )
                new_line += 1
        out.append(
            f"<div class='box file' data-path='{E(file['path'])}'><div class='head'>"
            f"{E(file['path'])} ({E(file['status'])})</div>"
            f"<table class='diff'>{''.join(rows)}</table></div>"
        )
    return "".join(out)
