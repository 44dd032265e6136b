"""Field types shared by the routes: text that staff or the public screens show, store codes."""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

SITE_CODE = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""A store's code: the MQTT contract's site id (dealergate.contract: lower-case letters, digits, - and _)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_TAB_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _printable(v: str, *, multiline: bool) -> str:
    """A screen shows this text: no control characters (PostgreSQL refuses NUL anyway); tabs and
    line breaks only where the text is `multiline`."""
    if (_CONTROL_BUT_TAB_NEWLINE if multiline else _CONTROL).search(v):
        raise ValueError("control characters are not allowed / 不能包含控制字符")
    return v


def screen_text(min_length: int, max_length: int, *, multiline: bool = False) -> Any:
    """A str field, stripped, `min_length`..`max_length` characters, without control characters."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(partial(_printable, multiline=multiline)),
    ]
