"""Domain errors raised by index/ and qa/; api/ translates them at the edges."""

from __future__ import annotations


class QAError(Exception):
    """Base class: the message says what went wrong and how to fix it."""

    status_code = 400


class InvalidInputError(QAError):
    """The caller passed something malformed (empty question, bad top_k, bad document)."""

    status_code = 422


class TooLargeError(QAError):
    """A question or upload exceeds a configured size limit."""

    status_code = 413


class DocumentNotFoundError(QAError):
    """No document with that id is in the index."""

    status_code = 404


class IndexMissingError(QAError):
    """No index exists yet at the given directory."""

    status_code = 503


class IndexMismatchError(QAError):
    """The index on disk was built with different model or chunking settings."""

    status_code = 409


class IndexCorruptError(QAError):
    """Index files are truncated or damaged."""

    status_code = 500


class IndexLockedError(QAError):
    """Another process holds the index folder's writer lock."""

    status_code = 409


class StorageError(QAError):
    """Writing the index to disk failed; the write was not applied."""

    status_code = 500


class StorageFullError(StorageError):
    """The disk holding the index is full; the write was not applied."""

    status_code = 507


class JobNotFoundError(QAError):
    """No background indexing job with that id (unknown, or forgotten since)."""

    status_code = 404


class JobFinishedError(QAError):
    """The job has already finished, so it cannot be cancelled."""

    status_code = 409


class JobQueueFullError(QAError):
    """Too many indexing jobs are queued or running; the upload was not accepted."""

    status_code = 429
