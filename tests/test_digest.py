"""Digests end to end: a real SMTP server receives the mail, links are followed on the app."""

import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from community_site import Site, token
from conftest import free_port
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from smtp_sink import Sink, SmtpServer

from broadsheet.community import tokens
from broadsheet.config import Settings
from broadsheet.mail.delivery import Digests
from broadsheet.mail.digest import DigestPeriod, Links, compose, period_for
from broadsheet.mail.mailer import Mailer
from broadsheet.models import Preferences
from broadsheet.worker import Worker

DAY = period_for("2026-08-21", date(2026, 8, 21))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(Sink(), free_port()) as server:
        yield server


def mailing(site: Site, smtp: SmtpServer, **overrides: object) -> tuple[TestClient, Digests]:
    """The site's app and digest sender, both pointed at the test SMTP server."""
    settings = site.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "site_url": "http://testserver"} | overrides
    )
    app = site.app_with(**settings.model_dump(include={"smtp_host", "smtp_port", "site_url"} | set(overrides)))
    return TestClient(app), Digests(site.store, site.engine, settings)


def deliver(site: Site, settings: Settings) -> None:
    """The background worker sends what the pages queued (confirmation and manage mails)."""
    worker = Worker(site.store, settings, site.engine.embedder)
    while worker.run_once():
        pass


def link(message: EmailMessage, path: str) -> str:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"http://testserver({re.escape(path)}\?token=[\w.-]+)", text)
    assert found, text
    return found[1]


def subscribe(site: Site, client: TestClient, smtp: SmtpServer, email: str, **fields: str) -> None:
    form = {
        "email": email,
        "frequency": "daily",
        "max_papers": "5",
        "trending": "true",
        "csrf_token": token(client),
    } | fields
    assert client.post("/subscribe", data=form).status_code == 200
    deliver(site, client.app.state.settings)  # type: ignore[attr-defined]
    confirm = link(smtp.sink.to(email)[-1], "/subscribe/confirm")
    assert "Subscription confirmed" in client.get(confirm).text


def test_double_opt_in_and_tokens(site: Site, smtp: SmtpServer) -> None:
    client, digests = mailing(site, smtp)
    form = {
        "email": "Ann@Example.org",
        "frequency": "daily",
        "max_papers": "5",
        "trending": "true",
        "csrf_token": token(client),
    }
    page = client.post("/subscribe", data=form)
    assert "Check your inbox" in page.text
    assert not smtp.sink.to("ann@example.org")  # never sent inside the request: the worker sends it
    deliver(site, digests.settings)
    [mail] = smtp.sink.to("ann@example.org")
    assert mail["Subject"] == "Confirm your paper digest"
    assert digests.send(DAY, Mailer(digests.settings), retries=0).counts == {}  # not confirmed: nothing sent
    confirm = link(mail, "/subscribe/confirm")
    assert "Subscription confirmed" in client.get(confirm).text
    again = client.get(confirm)
    assert again.status_code == 200 and "Already confirmed" in again.text
    tampered = confirm[:-3] + ("AAA" if not confirm.endswith("AAA") else "BBB")
    assert client.get(tampered).status_code == 400
    secret = tokens.secret_key(digests.settings, site.store)
    sid = site.store.subscribers.by_email("ann@example.org").id  # type: ignore[union-attr]
    expired = URLSafeTimedSerializer(secret, salt="manage", signer=Old).dumps(sid)
    assert client.get(f"/subscribe/manage?token={expired}").status_code == 410
    wrong = tokens.Signer(secret).sign("unsubscribe", sid)
    assert client.get(f"/subscribe/manage?token={wrong}").status_code == 400  # wrong purpose
    assert site.store.subscribers.get(sid).status == "active"  # type: ignore[union-attr]
    for bad in ("", "x" * 500, "a.b", "<script>", "a.\u00e9", "\u00e9.\u00e9.\u00e9"):
        for path in ("/subscribe/confirm", "/subscribe/manage", "/unsubscribe"):
            response = client.get(path, params={"token": bad})
            assert 400 <= response.status_code < 500 and "Traceback" not in response.text, (path, bad)
        posted = TestClient(client.app).post("/unsubscribe", params={"token": bad})
        assert 400 <= posted.status_code < 500, bad
        managed = client.post("/subscribe/manage", data=form | {"token": bad, "csrf_token": token(client)})
        assert 400 <= managed.status_code < 500, bad
    for bad in ("not-an-address", "zoë@example.org"):
        refused = client.post("/subscribe", data=form | {"email": bad})
        assert refused.status_code == 400 and ("does not look like" in refused.text or "plain ASCII" in refused.text)
    assert not smtp.sink.to("zoë@example.org")


class Old(TimestampSigner):
    """Signs as if 91 days ago (older than a manage link may be)."""

    def get_timestamp(self) -> int:
        return super().get_timestamp() - 91 * 24 * 3600


def test_digest_is_multipart_has_one_click_unsubscribe_and_links_work(site: Site, smtp: SmtpServer) -> None:
    client, digests = mailing(site, smtp)
    subscribe(site, client, smtp, "bea@example.org")
    report = digests.send(DAY, Mailer(digests.settings), retries=0)
    assert report.counts.get("sent", 0) >= 1
    [mail] = [m for m in smtp.sink.to("bea@example.org") if "papers for" in m["Subject"]]
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and mail[
        "List-Unsubscribe"
    ].strip().startswith("<http://testserver/unsubscribe?token=")
    text, html = (p.get_content() for p in mail.iter_parts())
    assert "EnvHarness" in text and "EnvHarness" in html and "style=" in html
    assert client.get("/papers/2608.19880").status_code == 200
    assert client.get(link(mail, "/subscribe/manage")).status_code == 200
    unsubscribe = mail["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")
    assert "Unsubscribe?" in TestClient(client.app).get(unsubscribe).text  # a GET only asks
    one_click = TestClient(client.app).post(
        unsubscribe,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and "Unsubscribed" in one_click.text  # no cookie, no CSRF token: RFC 8058
    assert site.store.subscribers.by_email("bea@example.org").status == "unsubscribed"  # type: ignore[union-attr]
    before = len(smtp.sink.messages)
    digests.send(period_for("2026-08-20", DAY.period.start), Mailer(digests.settings), retries=0)
    assert not [m for m in smtp.sink.messages[before:] if m["To"] == "bea@example.org"]
    assert (
        digests.send(DAY, Mailer(digests.settings), retries=0).counts.get("sent", 0) == 0
    )  # the ledger: once per period


def test_personal_preferences_pick_the_papers(site: Site, smtp: SmtpServer) -> None:
    _, digests = mailing(site, smtp)
    store = site.store
    sub, _ = store.subscribers.subscribe(
        "cat@example.org", Preferences("daily", 8, False, topics=("agents learning in simulated environments",))
    )
    store.subscribers.set_status(sub.id, "active")
    fresh = store.subscribers.get(sub.id)
    papers = digests.selector.papers(fresh, DAY)  # type: ignore[arg-type]
    assert papers and "2608.19880" in [p.paper.arxiv_id for p in papers[:3]]  # EnvHarness: agents + environments
    store.subscribers.update_preferences(sub.id, Preferences("daily", 8, True, exclude_categories=("cs.CV",)))
    listed = digests.selector.papers(store.subscribers.get(sub.id), DAY)  # type: ignore[arg-type]
    assert listed and all("cs.CV" not in p.paper.categories for p in listed) and len(listed) <= 8
    nothing = Preferences("daily", 5, False, categories=("q-bio.PE",))
    store.subscribers.update_preferences(sub.id, nothing)
    assert digests.build(store.subscribers.get(sub.id), DAY) is None  # type: ignore[arg-type]  # empty: skipped


def test_temporary_failures_are_retried_and_permanent_ones_pause_the_address(site: Site, smtp: SmtpServer) -> None:
    client, digests = mailing(site, smtp, digest_pause_after=2)
    subscribe(site, client, smtp, "flaky@example.org")
    subscribe(site, client, smtp, "gone@example.org")
    smtp.sink.refuse["flaky@example.org"] = ["451 4.3.0 try again later", "451 4.3.0 try again later"]
    smtp.sink.refuse["gone@example.org"] = ["550 5.1.1 no such mailbox"]
    for day in ("2026-08-19", "2026-08-18"):
        period = period_for(day, DAY.period.start)
        report = digests.send(period, Mailer(digests.settings), retries=2, backoff=0.01)
        assert report.counts.get("failed") == 1
        assert len([m for m in smtp.sink.to("flaky@example.org") if day_title(period) in m["Subject"]]) == 1
    assert site.store.subscribers.by_email("gone@example.org").status == "paused"  # type: ignore[union-attr]
    with site.store.db.read() as conn:
        rows = dict(
            conn.exec_driver_sql(
                "SELECT s.email, d.error FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.status = 'failed'"
            ).all()
        )
    assert "550" in rows["gone@example.org"]


def day_title(period: DigestPeriod) -> str:
    return period.period.title


def test_killed_mid_run_then_rerun_sends_every_digest_once(site: Site, tmp_path: Path) -> None:
    sink = Sink(delay=0.04)
    with SmtpServer(sink, free_port()) as smtp:
        _, digests = mailing(site, smtp)
        emails = [f"reader{i:02d}@example.org" for i in range(40)]
        for address in emails:
            sub, _ = site.store.subscribers.subscribe(address, Preferences("daily", 5, True))
            site.store.subscribers.set_status(sub.id, "active")
        for address in emails[::7]:
            sink.refuse[address] = ["451 4.7.1 greylisted, try later"]
        env = os.environ | {"BROADSHEET_DATA_DIR": str(site.settings.data_dir), "BROADSHEET_SMTP_HOST": "127.0.0.1",
                            "BROADSHEET_DATABASE_URL": site.settings.db_url,
                            "BROADSHEET_SMTP_PORT": str(smtp.port), "BROADSHEET_LOAD_DEMO": "false"}  # fmt: skip
        command = [sys.executable, "-m", "broadsheet", "digest", "send", "--period", "2026-08-17"]
        run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        while len([m for m in sink.messages if m["To"] in emails]) < 12:
            time.sleep(0.02)
            assert run.poll() is None, run.stdout.read()  # type: ignore[union-attr]
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        kills = 1
        for _ in range(3):
            finished = subprocess.run(command, env=env, capture_output=True, text=True)
            if finished.returncode == 0:
                break
        assert finished.returncode == 0, finished.stdout + finished.stderr
        received = {address: [m["Message-ID"] for m in sink.to(address)] for address in emails}
        assert all(len(set(ids)) == 1 for ids in received.values()), received  # one digest each, none lost
        repeats = sum(len(ids) - 1 for ids in received.values())
        assert (
            repeats <= kills
        )  # only a kill right after the server's "250 OK" can repeat one, with the same Message-ID
        assert digests.store.deliveries.summary("2026-08-17")["sent"] >= 40


def test_dry_run_writes_eml_files(site: Site, smtp: SmtpServer, tmp_path: Path) -> None:
    _, digests = mailing(site, smtp)
    sub, _ = site.store.subscribers.subscribe("dry@example.org", Preferences("weekly", 3, True))
    site.store.subscribers.set_status(sub.id, "active")
    report = digests.dry_run(period_for("2026-W34", DAY.period.start), tmp_path / "out")
    assert report.counts.get("written", 0) >= 1 and list((tmp_path / "out").glob("2026-W34-*.eml"))


def test_non_ascii_names_are_encoded_without_breaking_addresses(site: Site) -> None:
    views = site.store.papers.views(site.store.papers.new_in(DAY.period.start, DAY.period.end, site.settings.zone))
    subscriber, _ = site.store.subscribers.subscribe("zoe@example.org", Preferences("daily", 5, True))
    links = Links("https://papers.example.org", "https://papers.example.org/m", "https://papers.example.org/u")
    mime = compose(subscriber, views[:3], DAY, links, mail_from="Bröd Lab <digest@papers.example.org>",
                   site_name="Bröd — papers", msg_id="<x@papers.example.org>")  # fmt: skip
    raw = bytes(mime)
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["From"].addresses[0].addr_spec == "digest@papers.example.org"
    assert mail["From"].addresses[0].display_name == "Bröd Lab"
    assert mail["Subject"].startswith("Bröd — papers: 3 papers for") and "Bröd — papers digest" in mail["List-Id"]
    assert all(len(line) <= 78 for line in raw.split(b"\n") if b"=?" in line)  # RFC 2047 encoded words stay short
    assert raw.isascii() and "Bröd — papers" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_claim_skips_subscribers_who_left_after_the_run_began(site: Site) -> None:
    ids = []
    for address in ("stays@example.org", "leaves@example.org"):
        sub, _ = site.store.subscribers.subscribe(address, Preferences("daily", 5, True))
        site.store.subscribers.set_status(sub.id, "active")
        ids.append(sub.id)
    site.store.deliveries.queue("2026-08-16", ids, lambda sid: f"<{sid}@x>")
    site.store.subscribers.set_status(ids[1], "unsubscribed")
    assert site.store.deliveries.claim("2026-08-16", ids) == [ids[0]]
    assert site.store.deliveries.summary("2026-08-16") == {"sending": 1, "skipped": 1}
    assert [row.subscriber_id for row in site.store.deliveries.open("2026-08-16")] == [ids[0]]


def test_digest_cli_preview_reads_as_text_and_writes_the_html_part(site: Site, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from broadsheet.cli import app

    sub, _ = site.store.subscribers.subscribe("read@example.org", Preferences("daily", 3, True))
    site.store.subscribers.set_status(sub.id, "active")
    env = {
        "BROADSHEET_DATA_DIR": str(site.settings.data_dir),
        "BROADSHEET_SITE_URL": "https://papers.example.org",
        "BROADSHEET_DATABASE_URL": site.settings.db_url,
    }
    page = tmp_path / "digest.html"
    args = ["digest", "preview", "read@example.org", "--period", "2026-08-21", "--html", str(page)]
    shown = CliRunner().invoke(app, args, env=env)
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "Subject: " in text and "To: read@example.org" in text and "From: " in text
    assert "https://papers.example.org/unsubscribe?token=" in text  # one line: no quoted-printable soft breaks
    assert "Content-Transfer-Encoding" not in text and "=3D" not in text and "=C3=" not in text
    assert page.read_text(encoding="utf-8").lstrip().lower().startswith(("<!doctype", "<html"))
    bad = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "no" / "such" / "dir.html")], env=env)
    assert bad.exit_code == 1 and "cannot write" in bad.output


def test_digest_cli_preview_dry_run_and_bad_periods(site: Site, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from broadsheet.cli import app

    sub, _ = site.store.subscribers.subscribe("cli@example.org", Preferences("daily", 3, True))
    site.store.subscribers.set_status(sub.id, "active")
    env = {
        "BROADSHEET_DATA_DIR": str(site.settings.data_dir),
        "BROADSHEET_SITE_URL": "https://papers.example.org",
        "BROADSHEET_DATABASE_URL": site.settings.db_url,
    }
    runner = CliRunner()
    shown = runner.invoke(app, ["digest", "preview", "cli@example.org", "--period", "2026-08-21", "--mime"], env=env)
    assert shown.exit_code == 0, shown.output
    assert (
        "multipart/alternative" in shown.output and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in shown.output
    )
    assert "Content-Transfer-Encoding: quoted-printable" in shown.output
    written = runner.invoke(
        app, ["digest", "send", "--period", "2026-08-21", "--dry-run", str(tmp_path / "eml")], env=env
    )
    assert written.exit_code == 0 and list((tmp_path / "eml").glob("2026-08-21-*.eml"))
    for bad in (
        ["digest", "send", "--period", "yesterday"],
        ["digest", "preview", "cli@example.org", "--period", "2026-13-01"],
    ):
        result = runner.invoke(app, bad, env=env)
        assert result.exit_code == 2 and "Error" in result.output, result.output
    assert runner.invoke(app, ["digest", "preview", "nobody@example.org"], env=env).exit_code == 1
