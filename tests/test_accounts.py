"""Accounts under attack: racing password guesses, lock-outs as a weapon, unverified emails, resets."""

import email
import email.policy
import re
import threading

import argon2
import httpx
import pytest
from community_site import PASSWORD, Site, token
from fastapi.testclient import TestClient

from broadsheet.community import accounts
from broadsheet.store import Store


def test_forty_parallel_guesses_from_one_address_get_at_most_five_password_checks(site: Site, live: str) -> None:
    accounts.sign_up(site.store, "target", None, PASSWORD)
    codes: list[int] = []
    with httpx.Client(base_url=live) as probe:
        probe.get("/login")
        visit = re.search(r'name="csrf-token" content="([^"]+)"', probe.get("/login").text)[1]  # type: ignore[index]
        cookies = dict(probe.cookies)

    def guess(i: int) -> None:
        form = {"username": "target", "password": f"wrong guess {i}", "csrf_token": visit}
        codes.append(httpx.post(f"{live}/login", data=form, cookies=cookies, timeout=60).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(400) <= 5 and codes.count(429) >= 35, sorted(codes)  # before: 20 of 40 were checked


def test_failures_from_everywhere_do_not_lock_out_the_owner(site: Site) -> None:
    accounts.sign_up(site.store, "popular", None, PASSWORD)
    for i in range(30):  # an attacker spreads guesses over 30 addresses
        with pytest.raises(accounts.AccountError):
            accounts.log_in(site.store, "popular", f"guess {i}", client=f"198.51.100.{i}")
    with pytest.raises(accounts.Throttled):  # an address that failed on the account is locked out of it
        accounts.log_in(site.store, "popular", PASSWORD, client="198.51.100.3")
    owner = accounts.log_in(site.store, "popular", PASSWORD, client="203.0.113.9")  # a clean address still passes
    assert owner.username == "popular"


@pytest.mark.parametrize("weak", ["password", "12345678", "qwertyuiop", "letmein12", "popular1", "short"])
def test_common_and_short_passwords_are_refused_with_the_reason(site: Site, weak: str) -> None:
    with pytest.raises(accounts.AccountError, match="password"):
        accounts.sign_up(site.store, "weakling", None, weak)


def _mail_to(site: Site, address: str) -> str:
    """The newest mail written for `address` by the file transport (no SMTP server is configured)."""
    site.drain()
    found = sorted(site.settings.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime)
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in found]
    texts = [m.get_content() for m in mails if m["To"] == address]  # type: ignore[attr-defined]
    assert texts, f"no mail to {address}"
    return str(texts[-1])


def test_an_unverified_email_shows_nothing_of_the_victims_subscription(site: Site) -> None:
    victim = "victim@example.org"
    subscriber, _ = site.store.subscribers.subscribe(victim, accounts_prefs())
    site.store.subscribers.set_status(subscriber.id, "unsubscribed")
    attacker = TestClient(site.app)
    made = attacker.post("/signup", data={"username": "impostor", "email": victim, "password": PASSWORD,
                                          "csrf_token": token(attacker)})  # fmt: skip
    assert made.status_code == 200, made.text
    settings_page = attacker.get("/settings").text
    assert "not confirmed yet" in settings_page and "/subscribe/manage?token=" not in settings_page
    assert victim not in attacker.get("/subscribe").text  # not even prefilled
    # the link went to the victim's inbox; following it is what makes the address the account's
    link = re.search(r"http://[^\s]+/verify-email\?token=[\w.-]+", _mail_to(site, victim))
    assert link is not None
    confirmed = TestClient(site.app).get(link[0].split("127.0.0.1:8000")[-1])
    assert confirmed.status_code == 200 and "is confirmed" in confirmed.text
    assert "/subscribe/manage?token=" in attacker.get("/settings").text  # now it is really theirs


def accounts_prefs():  # type: ignore[no-untyped-def]
    from broadsheet.models import Preferences

    return Preferences("daily", 5, True)


def test_password_reset_by_email_works_once(site: Site) -> None:
    accounts.sign_up(site.store, "forgetful", "forgetful@example.org", PASSWORD)
    user = site.store.users.get("forgetful")
    assert user is not None
    site.store.users.verify_email(user.id, "forgetful@example.org")
    guest = TestClient(site.app)
    sent = guest.post("/password/forgot", data={"who": "forgetful", "csrf_token": token(guest)})
    assert sent.status_code == 200 and "we sent it a link" in sent.text
    unknown = guest.post("/password/forgot", data={"who": "nobody-at-all", "csrf_token": token(guest)})
    assert unknown.text.count("we sent it a link") == 1  # the same answer: no account enumeration
    link = re.search(r"/password/reset\?token=([\w.-]+)", _mail_to(site, "forgetful@example.org"))
    assert link is not None
    form = {"token": link[1], "password": "a brand new passphrase", "csrf_token": token(guest)}
    assert guest.post("/password/reset", data=form).status_code == 200
    assert accounts.log_in(site.store, "forgetful", "a brand new passphrase", client="x").username == "forgetful"
    again = TestClient(site.app)
    reused = again.post("/password/reset", data=form | {"csrf_token": token(again), "password": "yet another phrase"})
    assert reused.status_code == 400 and "already used" in reused.text


def test_passwords_are_stored_as_argon2id_with_rfc_9106s_low_memory_profile(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "_hasher", argon2.PasswordHasher.from_parameters(accounts.PASSWORD_PROFILE))
    accounts.sign_up(store, "ada", None, "correct horse battery staple")
    found = store.users.password_hash("ada")
    assert found is not None and found[1] is not None
    assert argon2.extract_parameters(found[1]) == argon2.profiles.RFC_9106_LOW_MEMORY
    assert accounts.log_in(store, "ada", "correct horse battery staple", client="127.0.0.1").username == "ada"
    assert accounts._verify(accounts._DUMMY, "a password nobody has")  # the decoy is a real production-cost hash
    assert argon2.extract_parameters(accounts._DUMMY) == argon2.profiles.RFC_9106_LOW_MEMORY
