"""Value objects returned by qa/: hits, passages, citations and answers (pydantic, so every surface shares them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Hit(_Frozen):
    """A retrieved passage by its position in the snapshot, with per-retriever scores."""

    passage_id: int
    score: float
    dense: float = 0.0
    bm25: float = 0.0


class Passage(_Frozen):
    """A retrieved passage: ``document.text[start:end] == text``."""

    doc_id: str
    title: str
    start: int
    end: int
    text: str
    score: float = Field(description="fused retrieval score in [0, 1], higher is better")


class Highlight(_Frozen):
    """A tighter span inside the quote that most directly answers the question."""

    start: int
    end: int
    text: str


class Citation(_Frozen):
    """Where the answer was quoted from: ``document.text[start:end] == quote``."""

    doc_id: str
    title: str
    url: str | None
    start: int
    end: int
    quote: str
    score: float = Field(description="support score of this sentence in [0, 1]")
    highlight: Highlight | None = None


class Answer(_Frozen):
    """The response body of /ask, /chat and `qa ask --json`."""

    question: str
    answer: str | None = Field(description="verbatim quote from the articles, or null when they lack the answer")
    confidence: float = Field(
        ge=0.0, le=1.0,
        description="estimated probability that the answer is correct (calibrated on the eval sets); "
        "for a null answer, the probability that the articles really lack it",
    )
    citations: list[Citation]
    passages: list[Passage]
    abstain_reason: str | None = Field(default=None, description="why the answer is null, when it is")
