"""HTTP and WebSocket routes: thin functions that call the domain modules, one file per resource."""

from __future__ import annotations

from fastapi import APIRouter

from server.api import (
    advisor,
    arrivals,
    audit,
    auth,
    customers,
    dashboard,
    frontdesk,
    health,
    kiosk,
    kiosk_cards,
    kiosk_content,
    pages,
    sites,
    staff,
    ws,
)


def build_router() -> APIRouter:
    router = APIRouter()
    for module in (
        auth,
        arrivals,
        audit,
        customers,
        advisor,
        dashboard,
        frontdesk,
        kiosk,
        kiosk_content,
        kiosk_cards,
        sites,
        staff,
        health,
        ws,
        pages,
    ):
        router.include_router(module.router)
    return router
