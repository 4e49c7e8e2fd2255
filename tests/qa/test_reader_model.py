"""The shipped reader on fixed sentences: exact answer spans at exact offsets, and the answering sentence scored above
the others (the model itself, loaded offline from qa/reader/weights/)."""

from __future__ import annotations

import hashlib
import json

import pytest

from qa.reader.model import GRAPH, WEIGHTS_DIR, Reader


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


MILLEY = ("The top United States military leader, Joint Chiefs Chair General Mark Milley, met with his Russian "
          "counterpart, Chief of General Staff Valery Gerasimov, in Helsinki on Wednesday.")
AFGHAN = ("The meeting of the two military leaders comes after the chaotic US military withdrawal from Afghanistan "
          "unleashed a new humanitarian crisis in Central Asia.")


@pytest.mark.parametrize(
    ("question", "sentence", "span"),
    [
        ("Where did Milley and Gerasimov meet?", MILLEY, "Helsinki"),
        ("How long did the generals talk?",
         "General Mark Milley meets with Russia General Valery Gerasimov in Finland for six hours amid the US push "
         "for Central Asia bases.", "six hours"),
        ("How much did the bridge cost?", "The bridge is 640 metres long and cost 212 million euros.",
         "212 million euros"),
        ("Who is the Kremlin spokesman?",
         "Kremlin spokesman Dmitry Peskov said on Tuesday that any US moves would only raise tensions further.",
         "Dmitry Peskov"),
        ("Which port did the patrol boats reach?",
         "On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern port of "
         "Odessa.", "southern port of Odessa"),
        # the agent of the passive "sent ... by", not the recipient (reader e81fff698961 answered "Ukraine's navy";
        # reader d8adf58cabb6 reads "Ukraine's navy by the United States", too long: kept as a known failure)
        pytest.param("Who sent the patrol boats?",
                     "On Tuesday, two patrol boats sent to Ukraine's navy by the United States arrived at the southern "
                     "port of Odessa.", "United States",
                     marks=pytest.mark.xfail(strict=True, reason="reader d8adf58cabb6 adds the recipient to the span")),
    ],
)
def test_exact_span_at_exact_offsets(reader: Reader, question: str, sentence: str, span: str) -> None:
    [reading] = reader.read(question, [sentence])
    assert sentence[reading.start : reading.end] == span
    assert (reading.start, reading.end) == (sentence.index(span), sentence.index(span) + len(span))


def test_the_answering_sentence_scores_higher(reader: Reader) -> None:
    readings = reader.read("Where did Milley and Gerasimov meet?", [AFGHAN, MILLEY])
    assert readings[1].answerable > readings[0].answerable
    assert readings[1].logit > readings[0].logit


def test_a_question_reads_the_same_alone_or_beside_others(reader: Reader) -> None:
    together = reader.read_batch([("Where did they meet?", [MILLEY, AFGHAN]), ("What crisis?", [AFGHAN])])
    alone = [reader.read("Where did they meet?", [MILLEY, AFGHAN]), reader.read("What crisis?", [AFGHAN])]
    assert [[(r.start, r.end) for r in rs] for rs in together] == [[(r.start, r.end) for r in rs] for rs in alone]
    for rs_t, rs_a in zip(together, alone, strict=True):
        for t, a in zip(rs_t, rs_a, strict=True):
            assert t.logit == pytest.approx(a.logit, abs=1e-3)


def test_shipped_weights_match_their_version_and_size() -> None:
    info = json.loads((WEIGHTS_DIR / "version.json").read_text())
    data = (WEIGHTS_DIR / GRAPH).read_bytes()
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    assert info["version"] == f"minilm-l6-reader-{info['sha256'][:12]}"
    assert len(data) <= 30 * 1024 * 1024
    assert (WEIGHTS_DIR / "MODEL_CARD.md").exists()


def test_a_sentence_without_readable_text_is_read_as_no_answer(reader: Reader) -> None:
    # an indexed text of control characters once made every question that retrieved it answer 500
    control, real = reader.read("Where did they meet?", ["\x01\x02\x03", "They met in Helsinki."])
    assert (control.start, control.end, control.answerable) == (0, 0, 0.0)
    assert "They met in Helsinki."[real.start:real.end] == "Helsinki"
