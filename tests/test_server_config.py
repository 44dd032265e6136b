"""Server settings: the database URL's sources and driver, and docs/server.md covering every field."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ServerSettings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "server.md"


def test_database_url_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEALERGATE_DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/dealergate")
    assert ServerSettings().database_url == "postgresql+psycopg://u:p@db/dealergate"
    monkeypatch.setenv("DEALERGATE_DATABASE_URL", "sqlite:///var/other.db")
    assert ServerSettings().database_url == "sqlite:///var/other.db", "the product's own variable wins"
    assert ServerSettings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_plain_postgres_urls_use_the_installed_driver(scheme: str) -> None:
    url = ServerSettings(database_url=f"{scheme}://u:p@db:5432/dg").database_url
    assert url == "postgresql+psycopg://u:p@db:5432/dg"


def test_docs_list_every_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [
        f"DEALERGATE_{name.upper()}"
        for name in ServerSettings.model_fields
        if f"DEALERGATE_{name.upper()}" not in text
    ]
    assert missing == [], f"docs/server.md does not document {missing}"
