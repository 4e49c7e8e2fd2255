"""Request and response bodies of the HTTP API that are not already qa/ value objects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from qa.filters import Filters
from qa.models import Citation

SINCE_DOC = "only articles published on or after this date (YYYY-MM-DD); undated articles never match"
UNTIL_DOC = "only articles published on or before this date (YYYY-MM-DD); undated articles never match"
SOURCE_DOC = ("only articles whose site name, URL host (`www.themoscowtimes.com`, `themoscowtimes.com`, "
              "`themoscowtimes`, or a host suffix such as `co.uk`) or doc_id prefix is this, ignoring case")


class FilterFields(BaseModel):
    """Optional metadata filters shared by the question bodies; validated by ``Filters.parse`` (422 when bad)."""

    since: str | None = Field(None, max_length=100, description=SINCE_DOC)
    until: str | None = Field(None, max_length=100, description=UNTIL_DOC)
    source: str | None = Field(None, max_length=500, description=SOURCE_DOC)

    def filters(self) -> Filters | None:
        return Filters.parse(self.since, self.until, self.source)


class AskRequest(FilterFields):
    """POST /ask. Question length is checked by the service (413 when over QA_MAX_QUESTION_CHARS)."""

    model_config = ConfigDict(extra="forbid")

    question: str
    top_k: StrictInt | None = Field(None, description="passages to return (1 to QA_MAX_TOP_K)")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class ChatRequest(FilterFields):
    """POST /chat: the whole conversation so far; the last user turn is answered."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    top_k: StrictInt | None = None


class DocumentIn(BaseModel):
    """POST /documents as JSON; without ``doc_id`` the id is derived from the text's hash."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1)
    url: str | None = Field(None, max_length=2000)
    published: str | None = Field(None, max_length=100, description="any common date form; stored as YYYY-MM-DD, "
                                                                     "with the text as given in published_raw")
    author: str | None = Field(None, max_length=500)
    site_name: str | None = Field(None, max_length=500)
    doc_id: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$",
                               description="letters, digits, `_ . -`; not only dots, not `CURRENT`")

    @field_validator("doc_id")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and (set(value) == {"."} or value == "CURRENT"):
            raise ValueError(f"document id {value!r} is reserved; use letters or digits")
        return value


class DocumentsAdded(BaseModel):
    """What POST /documents did: ids per outcome; ``documents`` lists every id the request carried."""

    documents: list[str]
    added: list[str]
    changed: list[str]
    unchanged: list[str]


class Deleted(BaseModel):
    deleted: str


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    documents: int
    sentences: int
    passages: int
    index_type: str = Field(description="FAISS index factory spec, e.g. 'Flat' or 'HNSW32'")
    reader: str = Field(description="version of the answer-span reader model (its weights' sha256 prefix)")


# ---- OpenAI-compatible chat completions ------------------------------------------------------------------------
class OpenAIMessage(BaseModel):
    """A message as OpenAI clients send it; ``content`` may be a string or a list of text parts."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(FilterFields):
    """The subset of the OpenAI request the service uses; sampling options are accepted and ignored. The filters
    ``since``, ``until`` and ``source`` are extensions (``extra_body`` in the OpenAI clients)."""

    model_config = ConfigDict(extra="allow")

    model: str = "newsqa"
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    top_k: StrictInt | None = Field(None, description="extension: passages to retrieve")


class CompletionMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI ``chat.completion`` plus the extension fields ``citations``, ``question`` and ``confidence``."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage
    citations: list[Citation] = Field(description="numbered as the [n] markers in the content")
    question: str = Field(description="the standalone question that was answered")
    confidence: float
