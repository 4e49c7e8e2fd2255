"""Settings from QA_* environment variables, validated; built by the app factory or CLI, never at import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.backend import BACKENDS, Storage
from index.chunking import ChunkParams
from index.embedder import BACKENDS as ENCODERS
from index.embedder import Embedder
from qa.fusion import FUSIONS


@dataclass(frozen=True, slots=True)
class AnswerParams:
    """The tunables of answering, as one value: the service builds it from Settings, and a caller may pass its own
    (the evals of eval/tuning/ switch abstention off this way)."""

    candidates: int  # sentences the reader reads per question
    early_exit: float  # the first candidate alone is the answer when its probability reaches this (above 1: never)
    abstain_below: float  # below this calibrated probability the answer is null
    passages: int  # top passages whose sentences are candidates
    passage_weight: float  # weight of the passage's fused score in the order candidates are offered to the reader


class Settings(BaseSettings):
    """Every tunable of the service; `QA_INDEX_DIR=/data/idx` sets ``index_dir`` and so on."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore")

    # where documents are stored: "embedded" (index_dir, one process) or "milvus" (stateless replicas; index.milvus)
    backend: str = "embedded"
    index_dir: Path = Path(".qa-index")
    # milvus: a local file path starts milvus-lite on it (this process owns the engine); "unix:/...sock" or
    # "http://host:19530" connects to a running engine or cluster
    milvus_uri: str = "qa-milvus.db"
    milvus_collection_prefix: str = Field("newsqa", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
    seeds_dir: Path = Path("seeds")
    top_k: int = Field(5, ge=1, le=50)
    max_top_k: int = Field(50, ge=1)
    fusion: str = "normalized"
    dense_weight: float = Field(0.5, ge=0.0, le=1.0)
    reader_graph: Path | None = None  # another reader ONNX graph (e.g. the fp32 export); default: the shipped int8
    reader_candidates: int = Field(4, ge=1, le=50)  # sentences the reader reads per question (its cost is per sentence)
    # the first candidate is read alone, and the others only when its calibrated probability is under this (above 1:
    # always read them all, in one call). On SQuAD part A, 0.6 and 0.7 gave the same span EM (0.585; 1.01: 0.587), 0.6
    # a little more sentence containment (0.738 vs 0.735), and 0.6 reads one sentence for 67 % of questions, 0.7 for
    # about 58 % (docs/tuning.md has the latency and the commands)
    reader_early_exit: float = Field(0.6, ge=0.0, le=1.01)
    # below this estimated probability the service answers null: 0.48 refuses as many of SQuAD part A's in-domain
    # unanswerable questions as the previous reader did at 0.45 (python -m eval.tuning.abstention_sweep; docs/tuning.md)
    abstain_below: float = Field(0.48, ge=0.0, le=1.0)
    answer_passages: int = Field(5, ge=1, le=50)  # the top passages whose sentences are offered to the reader
    # weight of the passage's fused score beside the sentence's cosine and term coverage when ordering the candidates:
    # on 1,500 SQuAD part A questions the answer sentence is among the first 4 for 0.905 of them at 1.5-3.0, 0.900 at
    # 1.0, 0.897 at 0.5, 0.883 without it (python -m eval.tuning.reader_candidates)
    passage_prefilter: float = Field(1.5, ge=0.0)
    max_question_chars: int = Field(2000, ge=10)
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    # one article's text, after extraction: bounds the sentences one write embeds (about 2,000 at the default)
    max_document_chars: int = Field(200_000, ge=100)
    # POST /documents with more documents than this (or ?background=true) runs as a background job (202 + /jobs/{id})
    job_threshold: int = Field(64, ge=1)
    job_batch_docs: int = Field(64, ge=1)  # documents a job commits per write; other writers get in between batches
    # requests being handled at once; more are answered 503 at once (open connections that have not sent a complete
    # request do not count: they are closed after keep_alive_seconds)
    max_concurrent_requests: int = Field(256, ge=1)
    # `qa serve`: a connection that has not sent complete request headers this long after it opened (or after its
    # last response) is closed
    keep_alive_seconds: int = Field(5, ge=1)
    # a request body must keep coming: all of it within this many seconds of its headers, plus one second for each
    # api.middleware.BODY_BYTES_PER_SECOND bytes received; else 408 and the connection closed, so a client that
    # stalls (or drips) its body holds a place among max_concurrent_requests for seconds, not for as long as it likes
    body_seconds: int = Field(10, ge=1)
    api_key: SecretStr | None = None
    # with api_key: questions, searches, documents and jobs need the key too (GET /health and the page stay open)
    protect_reads: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    threads: int | None = Field(None, ge=1)
    encoder: str = "onnx"
    question_int8: bool | None = None  # questions through the int8 graph; default: yes with onnx; passages stay fp32
    model_cache: Path | None = None  # where the exported ONNX graph is cached; default ~/.cache/newsqa/onnx

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"unknown backend {value!r}; choose one of {', '.join(BACKENDS)}")
        return value

    @field_validator("encoder", "fusion")
    @classmethod
    def _known_name(cls, value: str, info: ValidationInfo) -> str:
        choices = ENCODERS if info.field_name == "encoder" else tuple(FUSIONS)
        if value not in choices:
            raise ValueError(f"unknown {info.field_name} {value!r}; choose one of {', '.join(choices)}")
        return value

    @model_validator(mode="after")
    def _reads_need_a_key(self) -> Settings:
        if self.protect_reads and self.api_key is None:
            raise ValueError("QA_PROTECT_READS needs QA_API_KEY: set the key that reads and writes must send")
        return self

    def answer_params(self) -> AnswerParams:
        return AnswerParams(candidates=self.reader_candidates, early_exit=self.reader_early_exit,
                            abstain_below=self.abstain_below, passages=self.answer_passages,
                            passage_weight=self.passage_prefilter)

    def make_embedder(self) -> Embedder:
        return Embedder(threads=self.threads, backend=self.encoder, cache_dir=self.model_cache,
                        question_int8=self.question_int8)

    def open_store(self, create: bool = False, writer: bool = False) -> Storage:
        """The store ``backend`` names (the Milvus client is imported only for ``milvus``); ``writer``: the embedded
        store holds its folder's writer lock until closed (Milvus takes writes from any number of processes)."""
        if self.backend == "milvus":
            from index.milvus import MilvusStore

            return MilvusStore.open(self.milvus_uri, self.make_embedder(), ChunkParams(),
                                    prefix=self.milvus_collection_prefix, create=create)
        from index.store import IndexStore

        return IndexStore.open(self.index_dir, self.make_embedder(), ChunkParams(), create=create, writer=writer)
