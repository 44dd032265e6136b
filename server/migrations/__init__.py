"""Alembic migration scripts of the server database (see server.migrate)."""
