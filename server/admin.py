"""What the `dealergate import`, `dealergate db` and `dealergate server user|audit` commands do, so
that cli.py only parses arguments."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from server.audit import AuditFilter, query_audit, record_audit_reading
from server.config import ServerSettings
from server.db import make_engine, session_scope
from server.importer import FileProblem, import_file
from server.migrate import current_revision, head_revision, new_revision, schema_differences, upgrade_database
from server.sites import ensure_site
from server.staff import StaffAccountError, add_user, list_users, set_active, set_password, set_role

Echo = Callable[[str], None]


def run_import(settings: ServerSettings, path: Path, kind: str, *, dry_run: bool, echo: Echo) -> int:
    """Import one file (migrating the database first, as the server would, and making sure its site
    exists); rows that name no store are filed at the server's own. Exit status 0 when it went in
    (or would have)."""
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        ensure_site(engine, settings.site)
        report = import_file(
            engine, path, kind, dry_run=dry_run, who=f"cli:{getpass.getuser()}", site=settings.site
        )
    except FileProblem as exc:
        echo(f"{path.name}: {exc}")
        return 2
    finally:
        engine.dispose()
    for error in report.errors:
        echo(str(error))
    echo(report.summary())
    return 1 if report.errors else 0


def run_db(settings: ServerSettings, action: str, *, message: str = "", echo: Echo) -> int:
    """upgrade: migrate to the latest revision · check: models and database agree · revision: new migration."""
    engine = make_engine(settings.database_url)
    try:
        if action == "upgrade":
            echo(f"{engine.url.render_as_string(hide_password=True)}: {upgrade_database(engine)}")
            return 0
        if action == "check":
            current, head = current_revision(engine), head_revision()
            diffs = schema_differences(engine) if current == head else []
            for d in diffs:
                echo(f"  {d}")
            ok = current == head and not diffs
            echo(
                f"revision {current or '-'} (head {head}): {'一致 / in step' if ok else '不一致 / out of step'}"
            )
            return 0 if ok else 1
        if action == "revision":
            upgrade_database(engine)
            new_revision(engine, message)
            return 0
        raise ValueError(action)
    finally:
        engine.dispose()


def run_user(
    settings: ServerSettings,
    action: str,
    *,
    username: str = "",
    display_name: str = "",
    role: str = "",
    site: str | None = None,
    password: str = "",
    echo: Echo,
) -> int:
    """list | add | passwd | role | disable | enable a staff account (server.staff). Exit status 0
    when done, 2 when the change was refused (the message says why; nothing was written)."""
    engine = make_engine(settings.database_url)
    by = f"cli:{getpass.getuser()}"
    try:
        upgrade_database(engine)
        ensure_site(engine, settings.site)
        with session_scope(engine) as db:
            if action == "list":
                for u in list_users(db):
                    state = "启用 active" if u.active else "停用 disabled"
                    echo(
                        f"{u.username:<16} {u.display_name:<16} {u.role.value:<13} {u.site or '-':<12} {state}"
                    )
            elif action == "add":
                add_user(db, username, display_name, role, password, site=site or settings.site, by=by)
            elif action == "passwd":
                set_password(db, username, password, by=by)
            elif action == "role":
                set_role(db, username, role, by=by)
            elif action in ("disable", "enable"):
                set_active(db, username, action == "enable", by=by)
            else:
                raise ValueError(f"unknown action {action!r}")
    except StaffAccountError as exc:
        echo(str(exc))
        return 2
    finally:
        engine.dispose()
    if action != "list":
        echo(f"{username}: {_DONE[action]}")
    return 0


_DONE = {
    "add": "已添加 / added",
    "passwd": "密码已更改，已登录的设备需重新登录 / password changed; signed-in devices must log in again",
    "role": "角色已更改，已登录的设备需重新登录 / role changed; signed-in devices must log in again",
    "disable": "已停用，已登录的设备立即退出 / disabled; signed-in devices are logged out",
    "enable": "已启用 / enabled",
}


def run_audit(settings: ServerSettings, where: AuditFilter, *, limit: int, echo: Echo) -> int:
    """Print the audit rows `where` selects, newest first, one per line (this reading is recorded)."""
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        with session_scope(engine) as db:
            entries = query_audit(db, where, settings.tz, limit=limit)
            record_audit_reading(db, f"cli:{getpass.getuser()}", "admin", where)
    finally:
        engine.dispose()
    for e in entries:
        at = e.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
        customer = f"#{e.customer_id} {e.customer_name or ''}".strip() if e.customer_id else "-"
        echo(f"{at}  {e.who:<16} {e.role:<12} {e.action:<18} {customer:<16} {e.plate or '-':<9} {e.detail}")
    echo(f"{len(entries)} 条 / rows ({where.describe()})")
    return 0
