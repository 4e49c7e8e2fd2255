"""POST /chat: a multi-turn conversation, answered as one standalone question."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ReadAccess, ServiceDep
from api.responses import ModelResponse, errors
from api.schemas import ChatRequest
from qa.models import Answer

router = APIRouter(tags=["questions"], dependencies=[ReadAccess])


@router.post("/chat", response_model=Answer, responses=errors(400, 413, 415, 422))
def chat(body: ChatRequest, service: ServiceDep) -> ModelResponse:
    """Answer the last user turn; ``question`` in the response is the standalone question actually answered."""
    return ModelResponse(service.chat([(m.role, m.content) for m in body.messages], body.top_k, body.filters()))
