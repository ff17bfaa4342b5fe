"""The only module that speaks SMTP: one connection reused for a batch, STARTTLS or implicit TLS.

Failures are sorted as the SMTP reply codes say: 4xx (and lost connections) are temporary
and worth retrying; 5xx are permanent for that message. With no SMTP server configured (the
embedded default), each message is written as an `.eml` file to the data directory's `mail/`
folder instead, so every mail flow works out of the box.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import smtplib
import ssl
import time
from email.message import Message
from types import TracebackType

from broadsheet.config import Settings

log = logging.getLogger("broadsheet.mail")


class TemporaryFailure(Exception):
    """Try again later: a 4xx reply, or the server could not be reached."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx)."""


class Mailer:
    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def send(self, message: Message) -> None:
        if not self.settings.smtp_host:
            self._write(message)
            return
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            self._refused(next(iter(exc.recipients.values())))
        except smtplib.SMTPResponseException as exc:
            self._refused((exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise TemporaryFailure(f"cannot reach the mail server: {exc}") from None
        except smtplib.SMTPException as exc:  # e.g. the server lacks an extension this message needs
            raise PermanentFailure(str(exc)) from None

    def _refused(self, reply: tuple[int, bytes | str]) -> None:
        code, text = reply
        message = f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
        if 400 <= code < 500:
            self.close()
            raise TemporaryFailure(message)
        raise PermanentFailure(message)

    def _write(self, message: Message) -> None:
        folder = self.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        data = bytes(message)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{hashlib.sha256(data).hexdigest()[:12]}.eml"
        (folder / name).write_bytes(data)
        log.warning("no SMTP server configured: mail to %s written to %s", message["To"], folder / name)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            cfg = self.settings
            if cfg.smtp_security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, timeout=self.timeout,
                                                      context=ssl.create_default_context())  # fmt: skip
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=self.timeout)
                if cfg.smtp_security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if cfg.smtp_username:
                smtp.login(cfg.smtp_username, cfg.smtp_password or "")
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._smtp = None
