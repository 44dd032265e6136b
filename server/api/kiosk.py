"""Public catalogue for the waiting-area kiosk: packages and the season's offer, no personal data."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, HTTPException, status

from server import renewal
from server.api.deps import SettingsDep
from server.db import local_today

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"])


@router.get("/catalog")
def catalog(settings: SettingsDep, token: str = "") -> dict[str, Any]:
    """What the kiosk's attract loop shows between arrivals (same token as /ws/kiosk)."""
    if not hmac.compare_digest(token.encode(), settings.kiosk_token.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "kiosk token required / 需要屏幕令牌")
    return {
        "packages": [
            {"key": key, "zh": label.zh, "en": label.en, "coverages": list(covers)}
            for key, (label, covers) in renewal.PACKAGES.items()
        ],
        "seasonal_offer": renewal.seasonal_offer(local_today(settings.tz)),
    }
