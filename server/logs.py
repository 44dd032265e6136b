"""Structured logging: one line per event, `key=value` pairs, greppable and parseable.

Plates are personal data: log lines carry the masked plate and the event id, never a name or
phone number, so logs can be shared with support without a privacy review.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any


def _fmt_value(value: Any) -> str:
    text = str(value)
    if text == "" or any(ch in text for ch in ' "=\n\t'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=server.ingest event=arrival.stored plate=粤A·12*** ...`."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event is not None:
            fields["event"] = event
            fields.update(getattr(record, "fields", {}))
        else:
            fields["msg"] = record.getMessage()
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        return " ".join(f"{k}={_fmt_value(v)}" for k, v in fields.items())


def log_event(
    logger: logging.Logger, event: str, *, level: int = logging.INFO, exc_info: bool = False, **fields: Any
) -> None:
    """Log one event with its fields (the formatter renders them as key=value)."""
    logger.log(level, event, exc_info=exc_info, extra={"event": event, "fields": fields})


def configure_logging(level: str = "INFO") -> None:
    """Route the server's and uvicorn's loggers through the key=value formatter on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):  # one format per process: replace whatever was set up before
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
