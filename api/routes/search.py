"""GET /search: ranked passages with offsets and fused scores, without answer extraction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ServiceDep
from qa.models import Passage

router = APIRouter(tags=["questions"])


@router.get("/search", response_model=list[Passage])
def search(
    service: ServiceDep,
    q: Annotated[str, Query(description="search text")],
    k: Annotated[int | None, Query(description="passages to return (1 to QA_MAX_TOP_K)")] = None,
) -> list[Passage]:
    return service.search(q, k)
