"""What the `dealergate import` and `dealergate db` commands do, so that cli.py only parses arguments."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path

from server.config import ServerSettings
from server.db import make_engine
from server.importer import FileProblem, import_file
from server.migrate import current_revision, head_revision, new_revision, schema_differences, upgrade_database
from server.sites import ensure_site

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
