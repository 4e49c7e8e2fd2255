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
    """The answer span inside the quoted sentence: ``document.text[start:end] == text == Answer.answer``."""

    start: int
    end: int
    text: str


class ResolvedDate(_Frozen):
    """A relative date phrase in the quote ("on Tuesday", "last week") and the date it means in an article published
    on ``Citation.published``: ``document.text[start:end] == text``."""

    start: int
    end: int
    text: str
    date: str = Field(description="a day YYYY-MM-DD, a week YYYY-MM-DD/YYYY-MM-DD, a month YYYY-MM or a year YYYY")


class Citation(_Frozen):
    """Where the answer was quoted from: ``document.text[start:end] == quote``."""

    doc_id: str
    title: str
    url: str | None
    start: int
    end: int
    quote: str
    score: float = Field(description="calibrated probability in [0, 1] that this sentence's span answers the question")
    highlight: Highlight | None = Field(default=None, description="the answer span's exact offsets in the document")
    published: str | None = Field(default=None, description="the article's publication date, YYYY-MM-DD")
    dates: list[ResolvedDate] = Field(default_factory=list, description="relative dates in the quote, resolved "
                                      "against the publication date (empty when the article has no date)")
    copies: list[str] = Field(default_factory=list, description="ids of the other indexed articles that copy this "
                              "one (near-duplicates: the same wire story as other outlets ran it); the story ran in "
                              "1 + len(copies) articles")


class Answer(_Frozen):
    """The response body of /ask, /chat and `qa ask --json`."""

    question: str
    answer: str | None = Field(
        description="the exact short answer span, verbatim from the article (`document.text[start:end]` with the "
        "offsets in `citations[0].highlight`), quoted inside the sentence `citations[0].quote`; null when the "
        "articles lack the answer; for a question naming only a time (\"What happened on Tuesday?\") the whole "
        "sentence",
    )
    confidence: float = Field(
        ge=0.0, le=1.0,
        description="estimated probability that the answer is correct (calibrated on the eval sets); "
        "for a null answer, the probability that the articles really lack it; for a question naming only a time, "
        "the share of the sentences reporting something then that fall on the answer's date (see qa/events.py)",
    )
    citations: list[Citation]
    passages: list[Passage]
    abstain_reason: str | None = Field(default=None, description="why the answer is null, when it is")
    closest: list[Citation] = Field(
        default_factory=list,
        description="only with a null answer: up to 3 sentences the reader read, best first, each with the "
        "calibrated probability the abstention was decided on (`score`, all under the answer threshold unless the "
        "question named something no article mentions) and the span the reader read in it (`highlight`); evidence, "
        "not an answer. Empty when an answer is given, and when nothing was read (no article indexed or allowed by "
        "the filters, or a question naming only a time)",
    )
