"""Comments are Markdown, rendered safely: no raw HTML, no scripts, no event handlers, no javascript: links.

markdown-it-py renders CommonMark with raw HTML disabled (it also refuses javascript:, vbscript:
and data: link targets); nh3 then sanitises the HTML against an allow-list, as a second wall.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")
TAGS = {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "h3", "h4"}


def render(text: str) -> Markup:
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )
    return Markup(clean)
