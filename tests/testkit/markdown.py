"""Markdown rendered as GitHub and GitLab render comments (CommonMark with tables and strikethrough), parsed
back into its text, links and elements.
"""

from __future__ import annotations

from html.parser import HTMLParser

from markdown_it import MarkdownIt


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [value or "" for key, value in attrs if key in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(markdown: str) -> _Html:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    parsed = _Html()
    parsed.feed(html)
    return parsed
