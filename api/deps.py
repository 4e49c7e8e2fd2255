"""Dependencies shared by the routes: the service and settings from ``app.state``, and the key checks (writes; reads
too with QA_PROTECT_READS)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from index.errors import IndexMissingError
from qa.config import Settings
from qa.service import QAService


def get_service(request: Request) -> QAService:
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise IndexMissingError("the service is still starting; retry in a moment")
    return service


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[QAService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def require_api_key(request: Request, settings: SettingsDep) -> None:
    """Write endpoints need ``Authorization: Bearer <QA_API_KEY>`` when a key is configured."""
    if settings.api_key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise HTTPException(401, "missing API key: send the header 'Authorization: Bearer <QA_API_KEY>'", _CHALLENGE)
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "malformed Authorization header: expected 'Bearer <QA_API_KEY>'", _CHALLENGE)
    expected = settings.api_key.get_secret_value().encode("utf-8")
    if not hmac.compare_digest(token.strip().encode("utf-8"), expected):
        raise HTTPException(401, "wrong API key", _CHALLENGE)


WriteAccess = Depends(require_api_key)


def require_read_key(request: Request, settings: SettingsDep) -> None:
    """With QA_PROTECT_READS (which needs QA_API_KEY), questions, searches, documents and jobs need the key too."""
    if settings.protect_reads:
        require_api_key(request, settings)


ReadAccess = Depends(require_read_key)
