"""Request and response bodies of the HTTP API that are not already qa/ value objects."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, field_validator
from pydantic.config import JsonDict

from index.backend import StoredDocument
from index.filters import Filters
from index.jobs import NotIndexedDuplicate, RejectedRecord
from qa.models import Citation

# The schema states what the service checks, so a client (and schemathesis) can tell a valid request from an invalid
# one; the service keeps its own messages, so these are documented in the schema (json_schema_extra), not re-validated.
# str.strip() removes exactly the characters for which str.isspace() holds:
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{WHITESPACE}]"  # something is left after strip(): document text, source
QUESTION_TEXT = f"[^{WHITESPACE}\\x00]"  # the service also turns NUL into a space before stripping a question
ISO_DATE: JsonDict = {"format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}  # Filters.parse: exactly YYYY-MM-DD
# `x-limit` names the setting that bounds a value; api.openapi writes the configured number in its place.
QUESTION: JsonDict = {"pattern": QUESTION_TEXT, "x-limit": "max_question_chars"}
TOP_K: JsonDict = {"minimum": 1, "x-limit": "max_top_k"}
# An upload's doc_id field is cleaned by index.ingest.make_doc_id (other characters become "-", then "-" and "." are
# stripped from the ends): blank means "from the content hash"; otherwise a letter, digit or "_" must remain (and the
# result must not be "CURRENT", which the description says: a `not` beside a binary field breaks schemathesis 4.32).
UPLOAD_DOC_ID: JsonDict = {"anyOf": [{"pattern": f"^[{WHITESPACE}]*$"}, {"pattern": "[A-Za-z0-9_]"}]}


def _whole_number(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A JSON integer: JSON Schema counts 5.0 as one, so it is 5; "5", true and 5.5 are not integers.
JsonInt = Annotated[StrictInt, BeforeValidator(_whole_number)]

SINCE_DOC = ("only articles published on or after this date (YYYY-MM-DD, not after `until`: 422); undated articles "
             "never match")
UNTIL_DOC = "only articles published on or before this date (YYYY-MM-DD); undated articles never match"
SOURCE_DOC = ("only articles whose site name or author (a wire such as `AFP`; `aljazeera` matches \"Al Jazeera\"), URL "
              "host (`www.themoscowtimes.com`, `themoscowtimes.com`, `themoscowtimes`, or a host suffix such as "
              "`co.uk`) or doc_id prefix is this, ignoring case and accents")


class FilterFields(BaseModel):
    """Optional metadata filters shared by the question bodies; validated by ``Filters.parse`` (422 when bad)."""

    since: str | None = Field(None, max_length=100, description=SINCE_DOC, json_schema_extra=ISO_DATE)
    until: str | None = Field(None, max_length=100, description=UNTIL_DOC, json_schema_extra=ISO_DATE)
    source: str | None = Field(None, max_length=500, description=SOURCE_DOC, json_schema_extra={"pattern": NOT_BLANK})

    def filters(self) -> Filters | None:
        return Filters.parse(self.since, self.until, self.source)


class AskRequest(FilterFields):
    """POST /ask. Question length is checked by the service (422 when over QA_MAX_QUESTION_CHARS)."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="not blank; at most QA_MAX_QUESTION_CHARS characters (422 beyond)",
                          json_schema_extra=QUESTION)
    top_k: JsonInt | None = Field(None, description="passages to return (1 to QA_MAX_TOP_K)", json_schema_extra=TOP_K)


class ChatMessage(BaseModel):
    """A turn; a user turn is a question (not blank, at most QA_MAX_QUESTION_CHARS characters)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"properties": {"role": {"const": "assistant"}}},
        {"properties": {"content": QUESTION}},
    ]})

    role: Literal["user", "assistant"]
    content: str


ONE_USER_TURN: JsonDict = {"contains": {"properties": {"role": {"const": "user"}}, "required": ["role"]}}


class ChatRequest(FilterFields):
    """POST /chat: the whole conversation so far; the last user turn is answered."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] = Field(min_length=1, max_length=200, json_schema_extra=ONE_USER_TURN)
    top_k: JsonInt | None = Field(None, json_schema_extra=TOP_K)


# What `_not_reserved` refuses, stated in the schema (for strings only: a `not` would refuse null too).
RESERVED_DOC_ID: JsonDict = {"not": {"type": "string", "anyOf": [{"const": "CURRENT"}, {"pattern": r"^\.+$"}]}}


class DocumentIn(BaseModel):
    """POST /documents as JSON; without ``doc_id`` the id is derived from the text's hash."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, description="not blank; at most QA_MAX_DOCUMENT_CHARS characters (422 beyond)",
                      json_schema_extra={"pattern": NOT_BLANK, "x-limit": "max_document_chars"})
    url: str | None = Field(None, max_length=2000)
    published: str | None = Field(None, max_length=100, description="any common date form; stored as YYYY-MM-DD, "
                                                                     "with the text as given in published_raw")
    author: str | None = Field(None, max_length=500)
    site_name: str | None = Field(None, max_length=500)
    doc_id: str | None = Field(None, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$",
                               description="letters, digits, `_ . -`; not only dots, not `CURRENT`",
                               json_schema_extra=RESERVED_DOC_ID)

    @field_validator("doc_id")
    @classmethod
    def _not_reserved(cls, value: str | None) -> str | None:
        if value is not None and (set(value) == {"."} or value == "CURRENT"):
            raise ValueError(f"document id {value!r} is reserved; use letters or digits")
        return value


class DocumentInfo(BaseModel):
    """A document's metadata as listed by GET /documents."""

    doc_id: str
    title: str
    url: str | None
    published: str | None = Field(description="publication date, ISO 8601 (YYYY-MM-DD); null when unknown")
    published_raw: str | None = Field(None, description="the date as the article wrote it")
    undated: bool = Field(False, description="no publication date was found: since/until filters never match it")
    duplicate_of: str | None = Field(None, description="the article this one copies (the same text, or a near-"
                                     "duplicate such as a wire story another outlet ran): that one answers")
    author: str | None = None
    site_name: str | None = None
    passages: int
    sentences: int
    chars: int

    @classmethod
    def of(cls, entry: StoredDocument) -> DocumentInfo:
        d = entry.doc
        return cls(doc_id=d.doc_id, title=d.title, url=d.url, published=d.published, published_raw=d.published_raw,
                   undated=d.published is None, duplicate_of=d.duplicate_of, author=d.author, site_name=d.site_name,
                   passages=len(entry.chunks), sentences=len(entry.sentences), chars=len(d.text))


class DocumentText(DocumentInfo):
    """Metadata plus the text that every citation offset refers to."""

    text: str

    @classmethod
    def of(cls, entry: StoredDocument) -> DocumentText:
        return cls(**DocumentInfo.of(entry).model_dump(), text=entry.doc.text)


class DocumentsAdded(BaseModel):
    """What POST /documents did: ids per outcome; ``documents`` lists every id the request carried."""

    documents: list[str]
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    encoding: str | None = Field(None, description="only for an uploaded file that was not UTF-8: the encoding it was "
                                                    "decoded as (a Python codec name such as 'cp1252')")
    duplicates: list[NotIndexedDuplicate] | None = Field(None, description="only when some were: documents not "
                                                         "indexed because another has the same text (send "
                                                         "allow_duplicate=true to index them as copies)")
    duplicates_unchecked: str | None = Field(None, description="only on a backend that does not look for "
                                             "duplicates (milvus): says so; every document was indexed as it is")
    undated: list[str] | None = Field(None, description="only when some are: ids added or changed without a "
                                      "publication date (since/until filters never match them)")
    rejected: list[RejectedRecord] | None = Field(None, description="only when some were: records of an uploaded "
                                                  "JSON / JSON Lines file that could not be read, with where they "
                                                  "are; the others were indexed")


class Deleted(BaseModel):
    deleted: str


class DeletedMany(BaseModel):
    """What DELETE /documents removed (or, with ``dry_run``, would remove)."""

    deleted: list[str] = Field(description="ids of the documents removed, or that would be with dry_run")
    count: int
    dry_run: bool


class Health(BaseModel):
    status: Literal["ok"]
    model: str
    documents: int
    sentences: int
    passages: int
    index_type: str = Field(description="FAISS index factory spec, e.g. 'Flat' or 'HNSW32'")
    reader: str = Field(description="version of the answer-span reader model (its weights' sha256 prefix)")


# ---- OpenAI-compatible chat completions ------------------------------------------------------------------------
class ContentPart(BaseModel):
    """One part of a message's content; only ``text`` parts are read (an image does not steer an extractive reader)."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


# A user message is a question: its text (a string, or the text parts joined) is not blank and each piece holds at
# most QA_MAX_QUESTION_CHARS characters (the service counts the joined text: 422 beyond).
_USER_CONTENT: JsonDict = {"anyOf": [
    {"properties": {"role": {"not": {"const": "user"}}}},
    {"required": ["content"], "properties": {"content": {"type": "string", **QUESTION}}},
    {"required": ["content"], "properties": {"content": {
        "type": "array",
        "contains": {"required": ["type", "text"],
                     "properties": {"type": {"const": "text"}, "text": {"type": "string", "pattern": QUESTION_TEXT}}},
        "items": {"properties": {"text": {"x-limit": "max_question_chars"}}},
    }}},
]}


class OpenAIMessage(BaseModel):
    """A message as OpenAI clients send it; ``content`` may be a string or a list of parts."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_USER_CONTENT)

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(FilterFields):
    """The subset of the OpenAI request the service uses; sampling options are accepted and ignored. The filters
    ``since``, ``until`` and ``source`` are extensions (``extra_body`` in the OpenAI clients)."""

    model_config = ConfigDict(extra="allow")

    model: str = "newsqa"
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=200, json_schema_extra=ONE_USER_TURN)
    stream: StrictBool = False
    top_k: JsonInt | None = Field(None, description="extension: passages to retrieve", json_schema_extra=TOP_K)


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


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None


class ChatCompletionChunk(BaseModel):
    """One event of a streamed completion (``data: {...}``): the role first, then the content a few words at a time;
    the last, before ``data: [DONE]``, has finish_reason "stop" and the extension fields."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = Field(None, description="last chunk: numbered as the [n] markers")
    question: str | None = Field(None, description="last chunk: the standalone question that was answered")
    confidence: float | None = Field(None, description="last chunk")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """GET /v1/models, as OpenAI clients read it."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    """Every error: one line saying what was wrong and, where it helps, how to fix it."""

    detail: str = Field(examples=["body.question: Field required"])
