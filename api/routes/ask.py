"""POST /ask: one question, one extractive answer with exact-offset citations."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadAccess, ServiceDep
from api.responses import ModelResponse, errors
from api.schemas import AskRequest
from qa.models import Answer

router = APIRouter(tags=["questions"], dependencies=[ReadAccess])


@router.post("/ask", response_model=Answer, responses=errors(400, 413, 415, 422))
def ask(body: AskRequest, service: ServiceDep) -> ModelResponse:
    """Answer a question with a verbatim quote from the articles, or ``answer: null`` when they lack it."""
    return ModelResponse(service.ask(body.question, body.top_k, body.filters()))
