"""The playground's rendering: Markdown with raw HTML escaped, diff lines with their comments,
and the scripted reviewer's objection on a real added line."""

from __future__ import annotations

from triad_lab.playground.models import first_added_line
from triad_lab.playground.render import diff, markdown


def test_markdown_renders_and_escapes_untrusted_html() -> None:
    text = "**bold** <img src=x onerror=alert(1)> <script>x()</script> [a](javascript:alert(1))"
    rendered = markdown(text + "\n<!-- triad:marker -->")
    assert "<strong>bold</strong>" in rendered
    assert "<img" not in rendered and "<script" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered
    assert 'href="javascript:' not in rendered
    assert "triad:marker" not in rendered


def test_only_triads_own_attribute_free_tags_come_back() -> None:
    rendered = markdown("<details><summary>v1</summary>\n\nold\n</details>\n<sub>note</sub>")
    assert "<details>" in rendered and "<summary>v1</summary>" in rendered
    assert "<sub>note</sub>" in rendered
    assert "<details onclick" not in markdown("<details onclick=x()>")


def test_tags_written_in_code_stay_code() -> None:
    rendered = markdown("Use `<details>` and `</sub>`:\n\n```html\n<summary>x</summary>\n```")
    assert "<code>&lt;details&gt;</code>" in rendered and "<code>&lt;/sub&gt;</code>" in rendered
    assert "&lt;summary&gt;x&lt;/summary&gt;" in rendered
    assert "<details>" not in rendered and "<summary>" not in rendered


def test_inline_comments_sit_under_the_line_they_name() -> None:
    patch = "@@ -1,2 +1,3 @@\n a\n-b\n+c\n+d"
    comments = [{"path": "f.py", "line": 3, "author": "triad[bot]", "body": "why <b>d</b>?"}]
    html = diff([{"path": "f.py", "status": "modified", "patch": patch}], comments)
    rows = html.split("<tr")
    at = next(i for i, row in enumerate(rows) if "+d" in row)
    assert "class='inline' data-line='3'" in rows[at + 1]
    assert "&lt;b&gt;d&lt;/b&gt;" in rows[at + 1]
    assert "data-line='2'" in rows[at - 1]  # +c is new line 2; -b has no new line


def test_the_objection_names_the_first_added_line() -> None:
    numbered = (
        "--- a/README.md\n+++ b/README.md\n@@ -6,3 +6,4 @@\n    6  x\n    7  y\n"
        "    8 +Scripted change\n--- a/t.py\n+++ b/t.py\n    3 +z"
    )
    assert first_added_line(numbered) == ("README.md", 8)
    assert first_added_line("no diff") is None
