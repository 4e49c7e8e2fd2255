"""GET /search: ranked passages with offsets and fused scores, without answer extraction."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ReadAccess, ServiceDep
from api.responses import errors
from api.schemas import ISO_DATE, NOT_BLANK, QUESTION, SINCE_DOC, SOURCE_DOC, TOP_K, UNTIL_DOC
from index.filters import Filters
from qa.models import Passage

router = APIRouter(tags=["questions"], dependencies=[ReadAccess])


@router.get("/search", response_model=list[Passage], responses=errors(422))
def search(
    service: ServiceDep,
    q: Annotated[str, Query(description="search text: not blank, at most QA_MAX_QUESTION_CHARS characters (422 "
                                        "beyond)", json_schema_extra=QUESTION)],
    k: Annotated[int | None, Query(description="passages to return (1 to QA_MAX_TOP_K)",
                                   json_schema_extra=TOP_K)] = None,
    since: Annotated[str | None, Query(max_length=100, description=SINCE_DOC, json_schema_extra=ISO_DATE)] = None,
    until: Annotated[str | None, Query(max_length=100, description=UNTIL_DOC, json_schema_extra=ISO_DATE)] = None,
    source: Annotated[str | None, Query(max_length=500, description=SOURCE_DOC,
                                        json_schema_extra={"pattern": NOT_BLANK})] = None,
) -> list[Passage]:
    """The ``k`` best passages; with filters, the best among the articles they allow (``[]`` when none)."""
    return service.search(q, k, Filters.parse(since, until, source))
