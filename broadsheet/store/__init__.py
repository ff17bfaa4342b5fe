"""The store: the only package that runs SQL.

store = Store.open("sqlite:///data/broadsheet.db")
store.migrate()
store.papers.upsert([paper])          # -> UpsertResult(new=1, updated=0, unchanged=0)
store.daily.views(period)             # -> [PaperView], most upvoted first
"""

from __future__ import annotations

from broadsheet.store.authors import Authors
from broadsheet.store.changes import Changes
from broadsheet.store.collections import Collections
from broadsheet.store.community import Claims, Community
from broadsheet.store.daily import Daily
from broadsheet.store.digests import Deliveries, Subscribers
from broadsheet.store.embeddings import Embeddings
from broadsheet.store.engine import Db, make_engine, migrate, needs_migration
from broadsheet.store.follows import Follows
from broadsheet.store.foryou import ForYou
from broadsheet.store.fulltexts import FullTexts
from broadsheet.store.harvests import Harvests
from broadsheet.store.insights import Insights
from broadsheet.store.jobs import Jobs
from broadsheet.store.limits import Counters, Locks, Pacer, Secrets
from broadsheet.store.papers import Cursor, Papers
from broadsheet.store.personal import Personal
from broadsheet.store.tokens import Tokens
from broadsheet.store.users import Users

__all__ = ["Cursor", "Store"]


class Store:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.papers = Papers(db)
        self.daily = Daily(db)
        self.harvests = Harvests(db)
        self.embeddings = Embeddings(db)
        self.insights = Insights(db)
        self.users = Users(db)
        self.tokens = Tokens(db)
        self.community = Community(db)
        self.claims = Claims(db)
        self.collections = Collections(db)
        self.follows = Follows(db)
        self.authors = Authors(db)
        self.foryou = ForYou(db)
        self.fulltexts = FullTexts(db)
        self.subscribers = Subscribers(db)
        self.deliveries = Deliveries(db)
        self.jobs = Jobs(db)
        self.counters = Counters(db)
        self.pacer = Pacer(db)
        self.secrets = Secrets(db)
        self.locks = Locks(db)
        self.changes = Changes(db)
        self.personal = Personal(db)

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(Db(make_engine(url)))

    def migrate(self) -> None:
        migrate(self.db)

    def needs_migration(self) -> bool:
        return needs_migration(self.db)

    def close(self) -> None:
        self.changes.close()
        self.db.engine.dispose()
