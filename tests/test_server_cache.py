"""`server.cache.DatabaseCache`: reused per database until old, loaded again after a committed write
to the table it watches, not after a rolled-back one or a write to another table."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel

from server.cache import DatabaseCache
from server.models import KioskCard, Site


def test_reloads_after_a_committed_write_only() -> None:
    engine, second = create_engine("sqlite://"), create_engine("sqlite://")
    for e in (engine, second):
        SQLModel.metadata.create_all(e, tables=[Site.__table__, KioskCard.__table__])  # type: ignore[attr-defined]
    loads: list[object] = []
    cache = DatabaseCache(lambda s: loads.append(s.get_bind()) or len(loads), 3600, Site)
    with Session(engine) as s:
        assert cache.get(s) == cache.get(s) == 1  # reused
        s.add(KioskCard(title_zh="保养"))
        s.commit()
        assert cache.get(s) == 1  # another table
        s.add(Site(code="a", name_zh="甲"))
        s.flush()
        s.rollback()
        assert cache.get(s) == 1  # nothing was written
        s.add(Site(code="b", name_zh="乙"))
        s.commit()
        assert cache.get(s) == 2
    with Session(second) as s:
        assert cache.get(s) == 3  # another database has its own
    cache.max_age_s = 0
    with Session(engine) as s:
        assert cache.get(s) == 4  # old
    assert loads == [engine, engine, second, engine]
