"""FAISS helpers: the index family chosen by collection size, id selectors and search parameters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import faiss
import numpy as np

# faiss's SWIG wrappers take numpy arrays where its generated stubs name SWIG pointer types, and the stubs lack some
# classes and methods it has (DirectMap.Hashtable, IndexFlat.get_xb): calls the stubs get wrong go through this alias.
_swig: Any = faiss

EXACT_SEARCH_LIMIT = 200_000  # below this many vectors search is exact (Flat); above, IVF (see eval/bench/scale.py)
IVF_NPROBE = 32  # lists searched per query: recall@10 >= 0.95 at 1M vectors in eval/reports/scale


def faiss_spec(n_vectors: int) -> str:
    """Index factory string chosen by collection size: exact search, or an inverted file above the limit.

    IVF rather than HNSW because it builds in about a minute at 1M vectors on two cores, and it supports
    ``add_with_ids``/``remove_ids``, so documents can be added and removed without rebuilding.
    """
    if n_vectors < EXACT_SEARCH_LIMIT:
        return "IDMap2,Flat"
    nlist = 1 << max(8, min(14, round(math.log2(math.sqrt(n_vectors)))))
    return f"IVF{nlist},SQ8"  # 8-bit codes: a quarter of the memory, recall@10 still >= 0.95 (eval/bench/scale.py)


def build_faiss(vectors: np.ndarray, spec: str, train: np.ndarray | None = None,
                ids: np.ndarray | None = None) -> faiss.Index:
    """A FAISS index of ``spec`` holding ``vectors`` under ``ids`` (default 0..n-1); IVF is trained on ``train``."""
    index = faiss.index_factory(vectors.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(vectors if train is None else train)
    set_search_params(index, nprobe=IVF_NPROBE)
    if len(vectors):
        index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64) if ids is None else ids)
    return index


def supports_ids(index: faiss.Index | None) -> bool:
    """Whether vectors can be added and removed by id in place (IDMap2 or IVF)."""
    return index is not None and (isinstance(index, faiss.IndexIDMap2) or faiss.try_extract_index_ivf(index)
                                  is not None)


def id_selector(ids: np.ndarray) -> faiss.IDSelector:
    """A selector for ``search_vectors`` that restricts the search to the vectors stored under ``ids``.

    A bitmap, one bit per id up to the largest: a million ids cost 125 kB and a constant-time test each (a hash set,
    IDSelectorBatch, would take tens of bytes per id)."""
    ids = np.asarray(ids, dtype=np.int64)
    mask = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=bool)
    mask[ids] = True
    bitmap = np.packbits(mask, bitorder="little")
    return _swig.IDSelectorBitmap(bitmap)  # the wrapper takes and keeps the array


def search_params(index: faiss.Index, selector: faiss.IDSelector) -> faiss.SearchParameters:
    """Search parameters carrying ``selector``; an IVF index needs its own kind, with its nprobe restated (the
    parameters' nprobe, default 1, would otherwise replace the index's)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is None:
        params = faiss.SearchParameters()
    else:
        params = faiss.SearchParametersIVF()
        params.nprobe = ivf.nprobe
    params.sel = selector  # the caller keeps the selector alive during the search (SWIG holds no reference)
    return params


def set_search_params(index: faiss.Index, nprobe: int = IVF_NPROBE) -> None:
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = nprobe


def reusable(index: faiss.Index | None, n_vectors: int) -> bool:
    """Whether an index can be updated in place for a collection of ``n_vectors`` (same family, takes ids)."""
    is_ivf = index is not None and faiss.try_extract_index_ivf(index) is not None
    return supports_ids(index) and is_ivf == faiss_spec(n_vectors).startswith("IVF")


def spec_of(index: faiss.Index | None) -> str:
    """The factory spec an existing index corresponds to (for the manifest)."""
    ivf = faiss.try_extract_index_ivf(index) if index is not None else None
    if ivf is None:
        return "IDMap2,Flat" if isinstance(index, faiss.IndexIDMap2) else "Flat"
    codes = "SQ8" if isinstance(faiss.downcast_index(ivf), faiss.IndexIVFScalarQuantizer) else "Flat"
    return f"IVF{ivf.nlist},{codes}"


def forget(index: faiss.Index, ids: np.ndarray) -> None:
    """Make the vectors stored under ``ids`` unfindable, at a cost that follows ``len(ids)``, not the collection.

    ``remove_ids`` on IDMap2,Flat compacts the whole array and rebuilds the id map: 260 ms per call at 200k vectors.
    Instead a Flat index has the vectors zeroed in place (inner product 0: never above a live match, and
    retrieval takes only positive scores) and keeps them until the next compaction; an IVF index removes them
    through a hash-table direct map (built once)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    if not len(ids):
        return
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        hashtable = _swig.DirectMap.Hashtable
        if ivf.direct_map.type != hashtable:
            ivf.set_direct_map_type(hashtable)
        index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))
        return
    if not isinstance(index, faiss.IndexIDMap2):
        cast(Any, index).remove_ids(ids)  # the SWIG wrapper takes the ids as an array
        return
    # ids are added in increasing order (rows are appended, never reused), so the id map is sorted
    id_map = faiss.rev_swig_ptr(index.id_map.data(), index.id_map.size())
    pos = np.searchsorted(id_map, ids)
    found = pos < len(id_map)
    found[found] = id_map[pos[found]] == ids[found]
    flat: Any = faiss.downcast_index(index.index)
    xb = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(-1, flat.d)
    xb[pos[found]] = 0.0


@contextmanager
def one_thread() -> Iterator[None]:
    """Run FAISS calls of this thread on one OpenMP thread: a search or a one-document add gains nothing from more,
    and on a busy machine waking the team costs tens of milliseconds at p95 (eval/reports/perf) and hundreds for
    an IVF add (eval/bench/write_cost.py). The setting is per thread."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)
