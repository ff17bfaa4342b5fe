"""A paper's full text as Markdown, converted from arXiv's HTML rendering (LaTeXML output).

    text = convert(page.body)      # -> FullText(markdown, truncated); NotAPaper when the page holds no LaTeXML article

The LaTeXML-specific work is done on the parsed page (BeautifulSoup over lxml); markdownify then writes Markdown:
- page chrome goes: scripts, styles, navigation and the table of contents, headers, footers, dialogs,
  buttons ("Report issue"), the licence/watermark box, LaTeXML's error spans;
- the title, authors and abstract go too: the Markdown page gives them from the paper's metadata;
- math becomes TeX from the MathML `alttext`: `$…$` inline, `$$…$$` for display math and each equation row
  (with its number);
- citations and cross-references keep their text (`[1]`, `Section 2`), links to other pages stay links;
- figures become their captions, tables Markdown tables under their captions, listings code blocks;
- footnotes become Markdown footnotes (`[^1]`, defined at the end), the bibliography a "References" list;
- headings are shifted so the paper's top level is `###` (the page puts it under "## Full text").

The Markdown is capped at MAX_CHARS: a longer text is cut at a paragraph break and ends with a note saying so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString
from lxml import etree
from lxml import html as lxml_html
from markdownify import ATX, MarkdownConverter

MAX_CHARS = 300_000  # Markdown characters kept per paper (a long paper runs 100-200k)
VERSION = 1  # of this conversion: texts converted by an older one can be converted again
TOP_LEVEL = 3  # the paper's sections are `###`
CHROME_TAGS = ("script", "style", "noscript", "template", "link", "meta", "nav", "header", "footer", "dialog", "form",
               "button", "input", "svg", "iframe")  # fmt: skip
CHROME_CLASSES = ("ltx_page_navbar", "ltx_TOC", "ltx_page_logo", "ltx_page_header", "ltx_page_footer", "ltx_ERROR",
                  "ltx_listing_data", "ltx_rdf", "ds-announcement", "sr-only")  # fmt: skip
FRONT_CLASSES = ("ltx_title_document", "ltx_authors", "ltx_abstract", "ltx_dates", "ltx_pagination")
_HEADING = re.compile(r"^h[1-6]$")
_EQUATIONS = re.compile(r"^ltx_(equation|equationgroup|eqn_table)$")
BULLETS = frozenset("•∙◦‣–—-*·")
_NUMBERED = re.compile(r"\d+\.")
_BLANKS = re.compile(r"\n{3,}")


class NotAPaper(ValueError):
    """The page holds no LaTeXML document (an error page, or arXiv's placeholder)."""


@dataclass(frozen=True, slots=True)
class FullText:
    markdown: str
    truncated: bool


def convert(html: bytes | str, *, max_chars: int = MAX_CHARS) -> FullText:
    stripped, cut = _stripped(html, budget=max_chars + max_chars // 2)
    soup = BeautifulSoup(stripped, "lxml")
    article = soup.find(class_="ltx_document")
    if not isinstance(article, Tag):
        raise NotAPaper("the page has no LaTeXML document in it")
    _equations(soup, article)
    notes = _footnotes(soup, article)
    _links(article)
    _figures(soup, article)
    _lists(soup, article)
    _listings(soup, article)
    _bibliography(soup, article)
    _headings(article)
    _fonts(article)
    for image in article.find_all("img"):
        image.decompose()
    converter, parts, size = _Converter(), [], 0
    for block in _blocks(article):  # block by block, so a huge page stops being converted past the cap
        piece = converter.convert_soup(block).strip("\n") if isinstance(block, Tag) else _flat(str(block))
        if piece:
            parts.append(piece)
            size += len(piece) + 2
        if size > max_chars:
            break
    body = "\n\n".join(parts)
    defined = [f"[^{n}]: {_flat(converter.convert_soup(note))}" for n, note in notes if f"[^{n}]" in body]
    return _capped(_tidy("\n\n".join([body, *defined])), max_chars, cut=cut)


def _blocks(parent: Tag) -> Iterator[Tag | NavigableString]:
    """The article's blocks in order: sections are opened (they add no Markdown of their own)."""
    for child in parent.children:
        if isinstance(child, Tag) and child.name == "section":
            yield from _blocks(child)
        elif isinstance(child, Tag | NavigableString) and not (
            isinstance(child, NavigableString) and not child.strip()
        ):
            yield child


def _stripped(html: bytes | str, *, budget: int) -> tuple[str, bool]:
    """The LaTeXML article alone, without chrome, title, authors, abstract, with each <math> replaced by a
    <texmath> or <texdisplay> carrying its TeX, and without the blocks past `budget` characters of text (True when
    some were dropped): done with lxml (C), as MathML is most of a page's elements and the rest is slow in Python."""
    try:
        root = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        raise NotAPaper("the page is not HTML") from None
    found = root.xpath(f"//article[{_has_class('ltx_document')}]") or root.xpath(f"//*[{_has_class('ltx_document')}]")
    if not found:
        raise NotAPaper("the page has no LaTeXML document in it")
    article = found[0]
    for junk in article.xpath(_DROP):
        junk.drop_tree()
    for math in list(article.iter("math")):
        replacement = etree.Element("texdisplay" if math.get("display") == "block" else "texmath")
        replacement.set("data-tex", _tex(math))
        replacement.tail = math.tail
        parent = math.getparent()
        if parent is not None:
            parent.replace(math, replacement)
    cut = _within(article, budget)
    return str(lxml_html.tostring(article, encoding="unicode")), cut


def _within(article: Any, budget: int) -> bool:
    """Drop the blocks (sections opened) after the first `budget` characters of text and TeX; True if any went."""
    used, over = 0, False
    for block in list(_lxml_blocks(article)):
        if over:
            block.drop_tree()
            continue
        used += len(block.text_content()) + sum(len(m.get("data-tex", "")) for m in block.iter("texmath", "texdisplay"))
        over = used > budget
    return over


def _lxml_blocks(parent: Any) -> Iterator[Any]:
    for child in parent:
        if not isinstance(child.tag, str):
            continue  # a comment
        if child.tag == "section":
            yield from _lxml_blocks(child)
        else:
            yield child


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_DROP = ".//*[" + " or ".join([*(f"self::{tag}" for tag in CHROME_TAGS), *(_has_class(c) for c in CHROME_CLASSES),
                              *(_has_class(c) for c in FRONT_CLASSES), "@id='infobox'"]) + "]"  # fmt: skip


def _tex(math: Any) -> str:
    annotations = math.xpath(".//annotation[@encoding='application/x-tex']")
    tex = str(math.get("alttext") or (annotations[0].text_content() if annotations else "") or math.text_content())
    return " ".join(tex.split())


class _Converter(MarkdownConverter):
    """markdownify with ATX headings, `*` bullets, `^` superscripts, and the tags the preparation adds."""

    def __init__(self) -> None:
        super().__init__(heading_style=ATX, bullets="*", sup_symbol="^", table_infer_header=True, wrap=True,
                         wrap_width=None)  # fmt: skip

    def convert_texmath(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"${el['data-tex']}$"

    def convert_texdisplay(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        number = f" {el['data-tag']}" if el.get("data-tag") else ""
        return f"\n\n$${el['data-tex']}$${number}\n\n"

    def convert_fnref(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        return f"[^{el['data-n']}]"


def _equations(soup: BeautifulSoup, article: Tag) -> None:
    """Equation tables (LaTeXML lays out numbered and aligned equations as tables) to one display formula per row,
    with its number."""
    for table in article.find_all("table", class_=_EQUATIONS):
        if table.parent is None:
            continue  # inside an equation group handled already
        block = soup.new_tag("div")
        for row in table.find_all("tr"):
            tag = row.find(class_="ltx_tag_equation")
            parts = [str(m.get("data-tex") or "") for m in row.find_all(["texmath", "texdisplay"])]
            if any(parts):
                number = tag.get_text(strip=True) if tag else ""
                block.append(soup.new_tag("texdisplay", attrs={"data-tex": " ".join(p for p in parts if p),
                                                               "data-tag": number}))  # fmt: skip
        table.replace_with(block)


def _footnotes(soup: BeautifulSoup, article: Tag) -> list[tuple[int, Tag]]:
    """Each note becomes a `[^n]` mark; its content (detached) is returned, to be written at the end."""
    notes: list[tuple[int, Tag]] = []
    for note in article.find_all(class_="ltx_note"):
        if note.parent is None:
            continue
        content = note.find(class_="ltx_note_content")
        number = len(notes) + 1
        if content is not None:
            for mark in content.find_all(class_=_classes_re("note_mark", "tag_note")):
                mark.decompose()
            notes.append((number, content.extract()))
            note.replace_with(soup.new_tag("fnref", attrs={"data-n": str(number)}))
        else:
            note.decompose()
    return notes


def _links(article: Tag) -> None:
    """Links within the paper (citations, cross-references) and to its own files keep only their text."""
    for link in article.find_all("a"):
        href = str(link.get("href") or "")
        own_page = href.startswith("#") or ("#" in href and "/html/" in href.split("#", 1)[0])
        if own_page or not href.lower().startswith(("http://", "https://")):
            link.unwrap()


def _caption(soup: BeautifulSoup, figure: Tag) -> Tag | None:
    caption = figure.find("figcaption", recursive=True)
    if caption is None:
        return None
    paragraph = soup.new_tag("p")
    label = caption.find(class_="ltx_tag")
    if label is not None:
        label.name = "strong"
    for child in list(caption.children):
        paragraph.append(child.extract())
    return paragraph


def _figures(soup: BeautifulSoup, article: Tag) -> None:
    """Figures become their caption; tables keep their table under the caption."""
    for figure in article.find_all("figure", class_=_classes_re("figure", "table", "float")):
        if figure.parent is None:
            continue
        caption = _caption(soup, figure)
        tables = figure.find_all("table", class_="ltx_tabular") if "ltx_table" in _classes(figure) else []
        block = soup.new_tag("div")
        for part in ([caption] if caption is not None else []) + [t.extract() for t in tables]:
            block.append(part)
        figure.replace_with(block)


def _lists(soup: BeautifulSoup, article: Tag) -> None:
    """LaTeXML writes each item's label as text: bullets and plain numbers go (Markdown has its own), other
    labels ("(a)", "Step 1") stay, in an unordered list."""
    for items in article.find_all(["ul", "ol"], class_=_classes_re("itemize", "enumerate")):
        labels = items.find_all(class_="ltx_tag_item")
        texts = [label.get_text(strip=True) for label in labels]
        plain = all(t in BULLETS or not t for t in texts) or (
            items.name == "ol" and all(_NUMBERED.fullmatch(t) for t in texts)
        )
        for label in labels:
            if plain:
                label.decompose()
            else:
                label.append(soup.new_string(" "))
        if not plain:
            items.name = "ul"


def _listings(soup: BeautifulSoup, article: Tag) -> None:
    for listing in article.find_all(class_="ltx_listing"):
        if listing.parent is None:
            continue
        lines = [line.get_text() for line in listing.find_all(class_="ltx_listingline")]
        code = soup.new_tag("pre")
        code.string = "\n".join(lines) if lines else listing.get_text()
        listing.replace_with(code)


def _bibliography(soup: BeautifulSoup, article: Tag) -> None:
    """Each entry on one line: its label, then its blocks (authors, title, venue) with spaces between."""
    for item in article.find_all("li", class_="ltx_bibitem"):
        for piece in item.find_all(string=True, recursive=False):
            if not piece.strip():
                piece.extract()
        for block in item.find_all(class_=_classes_re("tag_bibitem", "bibblock")):
            strings = block.find_all(string=True)
            if len(strings) == 1:
                strings[0].replace_with(strings[0].strip())
            elif strings:
                strings[0].replace_with(strings[0].lstrip())
                strings[-1].replace_with(strings[-1].rstrip())
            block.append(soup.new_string(" "))


def _headings(article: Tag) -> None:
    """Run-in titles (theorems, \\paragraph) become bold; section headings shift to TOP_LEVEL."""
    for title in article.find_all(_HEADING):
        classes = _classes(title)
        if "ltx_runin" in classes or "ltx_title_paragraph" in classes or "ltx_title_subparagraph" in classes:
            title.name = "strong"
            title.append(" ")
    headings = article.find_all(_HEADING)
    if not headings:
        return
    top = min(int(h.name[1]) for h in headings)
    for heading in headings:
        heading.name = f"h{min(6, int(heading.name[1]) - top + TOP_LEVEL)}"


FONTS = {"ltx_font_bold": "strong", "ltx_font_italic": "em", "ltx_font_typewriter": "code"}


def _fonts(article: Tag) -> None:
    """LaTeXML's bold, italic and typewriter spans as the HTML tags markdownify writes as **, * and `."""
    for span in article.find_all("span", class_=_classes_re("font_bold", "font_italic", "font_typewriter")):
        classes = _classes(span)
        span.name = next(tag for cls, tag in FONTS.items() if cls in classes)


def _classes_re(*names: str) -> re.Pattern[str]:
    """Matches any of the classes `ltx_<name>` (bs4 tries each of an element's classes)."""
    return re.compile(rf"^ltx_({'|'.join(names)})$")


def _classes(tag: Tag) -> list[str]:
    value = tag.get("class")
    return value.split() if isinstance(value, str) else list(value or [])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\u00a0", " ").splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() + "\n"


def _capped(text: str, max_chars: int, *, cut: bool = False) -> FullText:
    if len(text) <= max_chars and not cut:
        return FullText(text, truncated=False)
    at = text.rfind("\n\n", 0, max_chars)
    kept = text.rstrip() if len(text) <= max_chars else text[: at if at > max_chars // 2 else max_chars].rstrip()
    note = f"*[The full text is cut here: this site keeps at most {max_chars:,} characters of it.]*"
    return FullText(f"{kept}\n\n{note}\n", truncated=True)


__all__ = ["MAX_CHARS", "VERSION", "FullText", "NotAPaper", "convert"]
