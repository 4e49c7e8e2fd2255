"""GET /health: liveness plus what is loaded (model, counts, FAISS index type)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep
from api.schemas import Health

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health)
def health(service: ServiceDep) -> Health:
    manifest = service.store.manifest()
    counts = manifest.get("counts", {})
    return Health(
        status="ok",
        model=manifest["model"]["name"],
        documents=counts.get("documents", 0),
        sentences=counts.get("sentences", 0),
        passages=counts.get("passages", 0),
        index_type=manifest.get("faiss", {}).get("spec", "none"),
        reader=service.reader.version,
    )
