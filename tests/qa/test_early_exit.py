"""The reader's early exit: the first candidate is read alone, the others only when its calibrated probability stays
under ``Settings.reader_early_exit``; the answer is then the best of all of them."""

from __future__ import annotations

import pytest

from qa.reader.model import Reader
from qa.service import QAService

CONFIDENT = "Which port did the US patrol boats reach?"  # its first candidate answers at about 0.78
UNSURE = "When had Milley and Gerasimov met before Helsinki?"  # the first candidate stays under 0.6


class CountingReader(Reader):
    """The shipped reader, recording how many sentences each call reads."""

    def __init__(self, inner: Reader) -> None:  # shares the loaded session and tokenizer
        self.__dict__.update(inner.__dict__)
        self.calls: list[int] = []

    def read(self, question, sentences):  # type: ignore[no-untyped-def]
        self.calls.append(len(sentences))
        return super().read(question, sentences)


def _service(seed_service: QAService, early_exit: float) -> tuple[QAService, CountingReader]:
    reader = CountingReader(seed_service.reader)
    settings = seed_service.settings.model_copy(update={"reader_early_exit": early_exit})
    return QAService(seed_service.store, settings, reader), reader


def test_a_confident_first_candidate_is_the_only_sentence_read(seed_service: QAService) -> None:
    service, reader = _service(seed_service, seed_service.settings.reader_early_exit)
    answer = service.ask(CONFIDENT)
    assert reader.calls == [1]
    assert answer.answer == "southern port of Odessa"
    assert answer.confidence >= service.settings.reader_early_exit == 0.6  # the shipped setting


def test_an_unsure_first_candidate_has_the_others_read_and_the_best_wins(seed_service: QAService) -> None:
    service, reader = _service(seed_service, seed_service.settings.reader_early_exit)
    answer = service.ask(UNSURE)
    assert reader.calls == [1, 3]
    full, full_reader = _service(seed_service, 1.01)
    assert full.ask(UNSURE).answer == answer.answer == "2019"
    assert answer.citations[0].quote == ("Milley and Gerasimov had previously met in 2019 and have had a number of "
                                         "phone calls.")
    assert full_reader.calls == [4]  # above 1 every candidate is read, in one call


@pytest.mark.parametrize("question", [CONFIDENT, UNSURE])
def test_the_early_exit_answers_with_exact_offsets(seed_service: QAService, question: str) -> None:
    service, _ = _service(seed_service, seed_service.settings.reader_early_exit)
    answer = service.ask(question)
    citation = answer.citations[0]
    text = seed_service.document(citation.doc_id).doc.text
    assert citation.quote == text[citation.start:citation.end]
    assert citation.highlight is not None and citation.highlight.text == answer.answer
    assert text[citation.highlight.start:citation.highlight.end] == answer.answer
