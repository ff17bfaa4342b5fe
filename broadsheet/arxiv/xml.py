"""Safe XML parsing (no entity expansion, no external entities) and namespace-blind lookups.

arXiv's feeds mix several namespaces (Atom, OAI-PMH, arXiv's own, Dublin Core, OpenSearch),
and older captures declare them differently; matching on local names reads them all alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class InvalidXml(ValueError):
    """A body that is not well-formed XML (often a truncated page)."""


def parse(body: bytes) -> Element:
    try:
        return fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise InvalidXml(f"not well-formed XML ({exc})") from None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def kids(el: Element, name: str) -> Iterator[Element]:
    return (child for child in el if local(child.tag) == name)


def kid(el: Element, name: str) -> Element | None:
    return next(kids(el, name), None)


def text(el: Element, name: str) -> str | None:
    """Text of the first child called `name`, or None when absent or blank."""
    child = kid(el, name)
    value = "".join(child.itertext()) if child is not None else ""
    return value if value.strip() else None


def texts(el: Element, name: str) -> list[str]:
    return ["".join(c.itertext()) for c in kids(el, name)]


def descendants(el: Element, name: str) -> Iterator[Element]:
    return (node for node in el.iter() if local(node.tag) == name)
