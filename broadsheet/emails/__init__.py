"""Email bodies: the digest (text and HTML with inline styles), confirmation and manage-link mails.

Templates live next to this module; HTML is autoescaped, so paper titles can never inject markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_text(title: str, items: list[Any], links: Any) -> str:
    return _env.get_template("digest.txt").render(title=title, items=items, links=links)


def render_html(title: str, items: list[Any], links: Any) -> str:
    return _env.get_template("digest.html").render(title=title, items=items, links=links)


def mail_domain(mail_from: str) -> str:
    """The domain of the From address (for Message-IDs and List-Id)."""
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


def set_headers(message: Message, *, subject: str, mail_from: str, to: str, msg_id: str) -> None:
    """The headers every mail of ours carries; a non-ASCII sender name is encoded, its address kept."""
    message["Subject"] = subject
    message["From"] = formataddr(parseaddr(mail_from), "utf-8")
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"


def notice(to: str, subject: str, template: str, *, mail_from: str, **context: Any) -> EmailMessage:
    """A one-off mail (confirm your subscription, your manage link), plain text."""
    message = EmailMessage()
    set_headers(message, subject=subject, mail_from=mail_from, to=to, msg_id=make_msgid(domain=mail_domain(mail_from)))
    message.set_content(_env.get_template(template).render(**context))
    return message
