"""The shared "[deleted]" account (deleted users' comments are kept under it) cannot be brought back."""

from __future__ import annotations

import pytest
from community_site import PASSWORD, Site
from test_exports import populate
from typer.testing import CliRunner

from broadsheet.cli import app
from broadsheet.community import accounts
from broadsheet.community import actions as community
from broadsheet.config import Settings
from broadsheet.personal import exports
from broadsheet.store import Store
from broadsheet.store.users import DELETED_USERNAME, Protected

NEW_PASSWORD = "another horse battery staple"


def _tombstone(store: Store) -> int:
    w = populate(store)
    exports.delete_account(store, w.ada, PASSWORD, client="203.0.113.5")
    return store.personal.deleted_user_id()


def test_the_deleted_account_cannot_be_reinstated_edited_or_given_a_password(store: Store) -> None:
    tombstone = _tombstone(store)
    admin = accounts.sign_up(store, "boss", None, PASSWORD, admin=True)
    with pytest.raises(Protected):
        accounts.set_banned(store, DELETED_USERNAME, False)
    with pytest.raises(Protected):
        community.set_banned(store, admin, DELETED_USERNAME, False)  # the admin action
    with pytest.raises(Protected):
        accounts.set_password(store, DELETED_USERNAME, NEW_PASSWORD)
    with pytest.raises(Protected):
        store.users.update_profile(tombstone, display_name="Back again", votes_public=True)
    user = store.users.by_id(tombstone)
    assert user is not None and user.banned and user.display_name == "[deleted user]"
    with pytest.raises(accounts.AccountError):
        accounts.log_in(store, DELETED_USERNAME, NEW_PASSWORD, client="203.0.113.6")
    assert store.users.session_user("0" * 64) is None


def test_other_accounts_are_still_managed_as_before(store: Store) -> None:
    _tombstone(store)
    accounts.set_banned(store, "bob", True)
    accounts.set_banned(store, "bob", False)
    accounts.set_password(store, "bob", NEW_PASSWORD)
    assert accounts.log_in(store, "bob", NEW_PASSWORD, client="203.0.113.6").username == "bob"


def test_the_cli_refuses_the_deleted_account_with_exit_code_2(settings: Settings, store: Store) -> None:
    _tombstone(store)
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir)]
    env = {"BROADSHEET_DATABASE_URL": settings.db_url}
    password = ["user", "password", DELETED_USERNAME, "--password", NEW_PASSWORD]
    for command in (["user", "unban", DELETED_USERNAME], password):
        result = runner.invoke(app, [*base, *command], env=env)
        assert result.exit_code == 2, result.output
        assert "shared account of deleted users" in result.output and "Traceback" not in result.output
    assert runner.invoke(app, [*base, "user", "unban", "nobody"], env=env).exit_code == 1  # unchanged: no such user


def test_the_admin_unban_button_answers_403_for_the_deleted_account(site: Site) -> None:
    site.member("writer")
    writer = site.store.users.get("writer")
    assert writer is not None
    exports.delete_account(site.store, writer, PASSWORD, client="203.0.113.5")
    boss = site.member("boss-of-tombs", admin=True)
    refused = boss.post("/u/%5Bdeleted%5D/ban", data={"banned": "false"}, follow_redirects=False)
    assert refused.status_code == 403 and "shared account of deleted users" in refused.text
    tombstone = site.store.users.get(DELETED_USERNAME)
    assert tombstone is not None and tombstone.banned
