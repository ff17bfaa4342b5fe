"""Comment Markdown: the formatting people use survives, anything that could run or track does not."""

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broadsheet.markup import TAGS, render


class Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML (escaped text is not one)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def safe(html: str) -> bool:
    for tag, attrs in Elements(html).found:
        if tag not in TAGS or set(attrs) - {"href", "title", "rel"}:
            return False
        if not (attrs.get("href") or "https:").lower().startswith(("http:", "https:", "mailto:")):
            return False
    return True


def test_common_markdown_renders() -> None:
    html = render("**bold**, *italic*, `code` and [a link](https://arxiv.org/abs/2401.00001)\n\n> quoted\n\n- item")
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html and "<code>code</code>" in html
    assert '<a href="https://arxiv.org/abs/2401.00001" rel="nofollow noopener ugc">a link</a>' in html
    assert "<blockquote>" in html and "<li>item</li>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[data](data:text/html;base64,PHNjcmlwdD4=)",
        "![tracker](https://evil.example/pixel.png)",
        '<a href="https://evil.example" onclick="steal()">x</a>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_nothing_that_runs_or_loads_survives(hostile: str) -> None:
    html = render(hostile)
    assert safe(html), html
    assert all(tag != "img" for tag, _ in Elements(html).found)  # images are links at most: nothing loads by itself


def test_raw_html_is_shown_as_text() -> None:
    assert "&lt;b&gt;not bold&lt;/b&gt;" in render("<b>not bold</b>")


@pytest.mark.slow  # a hundred hypothesis examples
@given(st.text(max_size=300))
def test_any_text_renders_to_allowed_tags_only(text: str) -> None:
    assert safe(render(text))
