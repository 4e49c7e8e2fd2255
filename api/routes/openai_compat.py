"""OpenAI-compatible ``/v1/chat/completions`` (plain and server-sent events) so existing chat clients work."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import ReadAccess, ServiceDep
from api.openapi import EVENT_STREAM
from api.responses import errors
from api.schemas import (
    ChatCompletion,
    ChatCompletionRequest,
    CompletionChoice,
    CompletionMessage,
    ModelCard,
    ModelList,
    Usage,
)
from index.errors import InvalidInputError
from qa.models import Answer

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[ReadAccess])

MODEL_ID = "newsqa-extractive"


def answer_text(answer: Answer) -> str:
    """The answer span, ``[1]`` … matching ``citations``, then the supporting sentence quoted (unless the answer is that
    whole sentence); or a plain refusal."""
    if answer.answer is None:
        reason = f" ({answer.abstain_reason})" if answer.abstain_reason else ""
        return f"Not found in the articles: they do not contain an answer to this question{reason}."
    marks = "".join(f"[{i}]" for i in range(1, len(answer.citations) + 1))
    # an event answer ("What happened on Tuesday?") is the whole sentence already: not quoted twice
    quoted = answer.citations and answer.citations[0].quote != answer.answer
    sentence = f' — "{answer.citations[0].quote}"' if quoted else ""
    return f"{answer.answer} {marks}".rstrip() + sentence


def answer_span(content: str) -> str:
    """What an assistant turn rendered by ``answer_text`` answered: the span before its ``[1]`` markers (a client
    sends our content back as the conversation's history); any other content as it is."""
    rendered = _RENDERED.match(content)
    return rendered.group(1) if rendered else content


_RENDERED = re.compile(r"\s*(.*?) \[1\]", re.S)


def _conversation(body: ChatCompletionRequest) -> list[tuple[str, str]]:
    """User and assistant turns, an assistant turn by what it answered; system prompts and tool messages do not steer
    an extractive reader."""
    turns: list[tuple[str, str]] = [(m.role, answer_span(m.text()) if m.role == "assistant" else m.text())
                                    for m in body.messages if m.role in ("user", "assistant")]
    if not any(role == "user" and content.strip() for role, content in turns):
        raise InvalidInputError("messages must contain at least one non-empty 'user' message")
    return turns


def _tokens(text: str) -> int:
    return len(text.split())


@router.get("/models", response_model=ModelList)
def list_models() -> ModelList:
    return ModelList(data=[ModelCard(id=MODEL_ID, created=0, owned_by="newsqa")])


# `"stream": true` answers server-sent events instead of the JSON completion.
_STREAM: dict[int | str, dict[str, Any]] = {200: {"content": {"text/event-stream": EVENT_STREAM},
                 "description": "a chat.completion, or with `stream: true` a text/event-stream of chunks"}}


@router.post("/chat/completions", response_model=ChatCompletion, responses={**_STREAM, **errors(400, 413, 415, 422)})
def chat_completions(body: ChatCompletionRequest, service: ServiceDep) -> ChatCompletion | StreamingResponse:
    """Answer the conversation's last user turn; ``citations`` is an extra field (and in the last stream chunk)."""
    turns = _conversation(body)
    answer = service.chat(turns, body.top_k, body.filters())
    content = answer_text(answer)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        return StreamingResponse(_stream(answer, content, completion_id, created, body.model),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    prompt_tokens = sum(_tokens(t) for _, t in turns)
    return ChatCompletion(
        id=completion_id, created=created, model=body.model,
        choices=[CompletionChoice(message=CompletionMessage(content=content))],
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=_tokens(content),
                    total_tokens=prompt_tokens + _tokens(content)),
        citations=answer.citations, question=answer.question, confidence=answer.confidence,
    )


def _stream(answer: Answer, content: str, completion_id: str, created: int, model: str) -> Iterator[str]:
    """Role first, then the content a few words at a time, then a final chunk with citations, then [DONE]."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def event(delta: dict, finish: str | None = None, **extra: object) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    words = content.split(" ")
    for i in range(0, len(words), 4):
        piece = " ".join(words[i:i + 4])
        yield event({"content": piece if i == 0 else " " + piece})
    yield event({}, "stop", citations=[c.model_dump() for c in answer.citations],
                question=answer.question, confidence=answer.confidence)
    yield "data: [DONE]\n\n"
