"""The dealership's stores (sites): this server's own and the sister stores whose files share its database.

The server makes sure its own site exists at start (`ensure_site`), the importer resolves a file's
store column against the active sites (`import_directory`), and every arrival's payload names the
store that holds the car's file from a per-process cache of the (small, rarely changed) table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.cache import DatabaseCache
from server.db import session_scope
from server.models import Site
from server.renewal import Label

SITE_NAMES_MAX_AGE_S = 60.0
"""How long arrivals reuse the site names instead of reading the table again. A change committed in
this process (the sites API) is seen by the next arrival; one made by another process (a second
server on the same database) within this many seconds."""


@dataclass(frozen=True)
class SiteName:
    """What a screen shows of a store: its code and its name in both languages."""

    code: str
    name: Label

    def label(self) -> dict[str, str]:
        return {"code": self.code, **self.name.as_dict()}


def name_of(site: Site) -> SiteName:
    """The store's names; English falls back to Chinese."""
    return SiteName(site.code, Label(site.name_zh, site.name_en or site.name_zh))


def ensure_site(engine: Engine, code: str) -> bool:
    """Create the site `code` (named by its code) unless it exists; True when it was created.

    Customers, cars and staff refer to a site by its code, so the server's own must exist before
    anything is filed at it; two processes starting together both succeed."""
    try:
        with session_scope(engine) as session:
            if session.exec(select(Site.id).where(Site.code == code)).first() is not None:
                return False
            session.add(Site(code=code, name_zh=code[:64], name_en=code))
    except IntegrityError:  # created by another process meanwhile
        return False
    return True


def ordered(session: Session, current: str | None = None) -> list[Site]:
    """Every site, `current` (this server's) first, then by code."""
    sites = list(session.exec(select(Site).order_by(col(Site.code))).all())
    return sorted(sites, key=lambda s: s.code != current)


def site_names(session: Session) -> Mapping[str, SiteName]:
    """Names of every site by code, cached per database (every arrival of a known car needs one;
    sites change a few times a year)."""
    return _site_names.get(session)


def site_name(session: Session, code: str) -> SiteName:
    """The names of site `code`; a code without a row (an edge's site never registered) is its own name."""
    return site_names(session).get(code) or SiteName(code, Label(code, code))


def import_directory(session: Session) -> dict[str, str]:
    """What an import file may write in its store column → the site's code: an active site's code
    (any case) or its exact Chinese or English name, as DMS exports name the store."""
    directory: dict[str, str] = {}
    for site in session.exec(select(Site).where(col(Site.active).is_(True))).all():
        for key in (site.name_zh, site.name_en, site.code):  # the code wins over a clashing name
            if key:
                directory[key.casefold()] = site.code
    return directory


def full(site: Site, current: str) -> dict[str, Any]:
    """The staff view of a site (address and phone included); `current`: this server's own store."""
    return {
        "code": site.code,
        "name_zh": site.name_zh,
        "name_en": site.name_en,
        "brands": list(site.brands),
        "address": site.address,
        "phone": site.phone,
        "active": site.active,
        "current": site.code == current,
        "updated_at": site.updated_at.isoformat(timespec="seconds"),
    }


_site_names = DatabaseCache(
    lambda session: {s.code: name_of(s) for s in session.exec(select(Site)).all()}, SITE_NAMES_MAX_AGE_S, Site
)
