"""What the waiting-area kiosk shows besides the arrival: the self-service QR target and the
regional claim statistics. Public (kiosk token, like /ws/kiosk): counts and a URL, nothing personal.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, status
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server import stats
from server.api.deps import SessionDep, SettingsDep
from server.db import local_today

router = APIRouter(prefix="/api/v1/kiosk", tags=["kiosk"])


class KioskContentSettings(BaseSettings):
    """Kiosk settings read from the same `DEALERGATE_*` environment as ServerSettings.

    Kept apart only until ServerSettings (owned by the server) takes the field over.
    """

    model_config = SettingsConfigDict(env_prefix="DEALERGATE_", extra="ignore")

    self_service_url: str = Field(
        default="",
        description="Where the kiosk's QR code sends a customer to renew on their phone (the dealer's "
        "WeChat mini-program or H5 page); empty: the kiosk shows no QR code.",
    )

    @field_validator("self_service_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if v and (urlsplit(v).scheme not in ("http", "https") or not urlsplit(v).netloc):
            raise ValueError(f"self_service_url {v!r} must be an http(s) URL")
        return v


@router.get("/extras")
def extras(db: SessionDep, settings: SettingsDep, token: str = "") -> dict[str, Any]:
    """Self-service URL for the QR code and claim statistics per plate province."""
    if not hmac.compare_digest(token.encode(), settings.kiosk_token.get_secret_value().encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "kiosk token required / 需要屏幕令牌")
    return {
        "self_service_url": KioskContentSettings().self_service_url or None,
        "region_claims": stats.regional_claim_mix(db, local_today(settings.tz)),
    }
