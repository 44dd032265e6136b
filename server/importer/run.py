"""One file, one transaction: read and check every row, write all of them or none.

Every row is read and checked before anything is written, so a file with a bad row names all its
bad rows at once; rows that only fail against the database (a policy for a car not on file) are
found inside the transaction, which is then rolled back. A dry run rolls back a clean import too.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.importer.kinds import KINDS, RowProblem, column_name, place
from server.importer.readers import FileProblem, read_rows
from server.logs import log_event
from server.models import AuditLog
from server.sites import import_directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行 / line {self.line}: {self.column}: {self.message}"


@dataclass
class ImportReport:
    kind: str
    file: str
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False

    def summary(self) -> str:
        c = self.counts
        state = (
            "已导入 / imported"
            if self.committed
            else "试运行，未写入 / dry run, nothing written"
            if not self.errors
            else "有错误，未导入任何数据 / errors: nothing imported"
        )
        return (
            f"{self.file} ({self.kind}): {self.rows} 行 rows · 新增 created {c['created']} · "
            f"更新 updated {c['updated']} · 未变 unchanged {c['unchanged']} · {state}"
        )


def _site_directory(engine: Engine, home: str | None) -> tuple[dict[str, str], str | None]:
    """The store names and codes a file may use, and the site code of `home` (the default store)."""
    with Session(engine) as session:
        directory = import_directory(session)
    if home is None:
        return directory, None
    if home.casefold() not in directory:
        raise FileProblem(
            f"默认门店 {home} 未登记或已停用 / the default store {home!r} is not an active site"
        )
    return directory, directory[home.casefold()]


def import_file(
    engine: Engine,
    path: Path,
    kind: str,
    *,
    dry_run: bool = False,
    who: str = "import",
    site: str | None = None,
) -> ImportReport:
    """Import `path` as `kind`; raises FileProblem when the file itself cannot be used.

    `site`: the store new customers and vehicles are filed at when their row names none (the
    command passes the server's own); None leaves them without one."""
    if kind not in KINDS:
        raise FileProblem(f"未知类型 / unknown kind {kind!r}: {', '.join(KINDS)}")
    spec = KINDS[kind]
    fields, rows = read_rows(path)
    missing = spec.missing(fields)
    if missing:
        names = "; ".join(" 或 / or ".join(column_name(f) for f in m.split("|")) for m in missing)
        raise FileProblem(f"缺少必需的列 / missing columns: {names}")
    directory, home = _site_directory(engine, site) if spec.sited else ({}, None)
    report = ImportReport(kind, path.name, rows=len(rows), dry_run=dry_run)
    parsed = []
    for row in rows:
        rec, problems = spec.parse(row.values)
        if spec.sited:
            problems += place(rec, directory, home)
        report.errors += [RowError(row.line, column_name(p.field), str(p)) for p in problems]
        parsed.append((row.line, rec))
    if report.errors:
        return report
    with Session(engine, expire_on_commit=False) as session:
        try:
            for line, rec in parsed:
                try:
                    report.counts[spec.apply(session, rec)] += 1
                except RowProblem as exc:
                    report.errors.append(RowError(line, column_name(exc.field), str(exc)))
                except IntegrityError as exc:  # a constraint the checks above do not know about
                    report.errors.append(
                        RowError(line, "-", f"数据库拒绝 / rejected by the database: {exc.orig}")
                    )
                    break
            if report.errors or dry_run:
                session.rollback()
                return report
            session.add(
                AuditLog(who=who, role="import", action=f"import_{kind}", detail=report.summary()[:200])
            )
            session.commit()
            report.committed = True
        except BaseException:
            session.rollback()
            raise
    log_event(log, "import.done", kind=kind, file=path.name, rows=report.rows, **dict(report.counts))
    return report
