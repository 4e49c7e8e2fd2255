"""Follow-ups rewritten into standalone questions from the earlier question and its answer (qa.followup rules)."""

from __future__ import annotations

import pytest

from qa.conversation import last_answer, resolve_turn
from qa.followup import Parsed, parse
from qa.phrases import plural
from qa.referents import event_phrase


def _turns(*texts: str) -> list[tuple[str, str]]:
    """Alternating user and assistant turns, the user first."""
    return [("user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # a question word alone asks the earlier question again, completed by its answer
        (("When did they first meet?", "2019", "And where?"), "Where did they first meet in 2019?"),
        (("Where did Milley meet Gerasimov?", "Helsinki", "And when?"), "When did Milley meet Gerasimov in Helsinki?"),
        (("What did Ukraine say it was seeking?", "more military aid", "From whom?"),
         "From whom did Ukraine say it was seeking more military aid?"),
        # the earlier question phrase was the subject: the answer takes its place, with "did"
        (("Who sent the patrol boats to Ukraine?", "the United States", "When?"),
         "When did the United States send the patrol boats to Ukraine?"),
        # "it" is the event of an earlier where / when question ...
        (("Where was the meeting held?", "Helsinki", "How long did it last?"),
         "How long did the meeting in Helsinki last?"),
        (("Where was the meeting held?", "Not found in the articles.", "How long did it last?"),
         "How long did the meeting last?"),
        # ... the answer of an earlier what / which question, or its named subject when "it" is the subject
        (("Which base did the US use in Kyrgyzstan?", "Manas", "When did the Americans have to vacate it?"),
         "When did the Americans have to vacate Manas?"),
        (("What was Ukraine seeking from Western allies?", "more military aid", "When did it say so?"),
         "When did Ukraine say so?"),
        # "there" is the earlier answer's place, "they" the earlier plural subject
        (("Where did Milley and Gerasimov meet?", "Helsinki", "What did they discuss there?"),
         "What did Milley and Gerasimov discuss in Helsinki?"),
        (("Which country hosted the talks?", "Finland", "How long did they last?"), "How long did the talks last?"),
        # "them" after "how many turbines" is the turbines; "it" after "how much will X cost" the cost of X, or X
        # when "it" is the subject
        (("How many turbines will the Gull Bank wind farm have?", "62", "How tall is each of them?"),
         "How tall is each of the turbines?"),
        (("How much will the Kestrel Bay bridge cost?", "85 million euros", "Who will pay half of it?"),
         "Who will pay half of the cost of the Kestrel Bay bridge?"),
        (("How much will the Gull Bank wind farm cost?", "£3.2 billion", "And how far from the coast will it be?"),
         "How far from the coast will the Gull Bank wind farm be?"),
        (("When did the council vote to build a bridge?", "Monday", "By how many votes?"),
         "By how many votes did the council vote to build a bridge on Monday?"),
        # another name asks the earlier question of it
        (("Where did Milley and Gerasimov meet?", "Helsinki", "What about Biden and Putin?"),
         "Where did Biden and Putin meet?"),
        # the answer of an object question takes the object's place, before the circumstances
        (("Which base did the Americans have to leave in 2014?", "Manas", "Where?"),
         "Where did the Americans have to leave Manas in 2014?"),
        (("Which airbase did the US lease in Uzbekistan?", "Karshi-Khanabad", "And when?"),
         "When did the US lease Karshi-Khanabad in Uzbekistan?"),
        (("What did the US send to Ukraine?", "patrol boats", "When?"),
         "When did the US send patrol boats to Ukraine?"),
        (("What did Milley and Gerasimov talk about in Helsinki?", "risk mitigation", "When?"),
         "When did Milley and Gerasimov talk about risk mitigation in Helsinki?"),
        (("How many children were vaccinated against measles in Malawi?", "1.4 million", "And when?"),
         "When were 1.4 million children vaccinated against measles in Malawi?"),
        # "who" after a subject question asks for the subject again; after an object question no rule applies
        (("Which country hosted the talks?", "Finland", "And who?"), "Who hosted the talks?"),
        (("Which base in Kyrgyzstan did the US use?", "Manas", "And who?"),
         "And who? (following up on: Which base in Kyrgyzstan did the US use?)"),
        (("Who opposed the Gull Bank project?", "Fishing groups", "And whom?"),
         "And whom? (following up on: Who opposed the Gull Bank project?)"),
    ],
)
def test_a_follow_up_becomes_a_standalone_question(texts: tuple[str, ...], expected: str) -> None:
    assert resolve_turn(_turns(*texts)).question == expected


NONE = "Not found in the articles."


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        # a follow-up whose one verb is the earlier question's, the rest pronouns, asks that question again
        (("Who announced the approval of the Gull Bank wind farm?", "Claire Holloway", "Where did she announce it?"),
         "Where did Claire Holloway announce the approval of the Gull Bank wind farm?"),
        (("Who announced the approval of the Gull Bank wind farm?", "Claire Holloway", "Where did she announce it?",
          "Norwich", "And when?"),
         "When did Claire Holloway announce the approval of the Gull Bank wind farm in Norwich?"),
        # "said that" after a subject question is what the question said its answer did; not after another question
        (("Who accused Washington of rehearsing a nuclear strike on Russia?", "Sergei Shoigu",
          "Where did he say that?"),
         "Where did Sergei Shoigu accuse Washington of rehearsing a nuclear strike on Russia?"),
        (("Who is the Kremlin spokesman?", "Dmitry Peskov", "When did he say it?"), "When did Dmitry Peskov say it?"),
        # an answer that only started its sentence with a capital loses it inside the question
        (("Who announced the approval of the Gull Bank wind farm?", "The government", "Where did she announce it?"),
         "Where did the government announce the approval of the Gull Bank wind farm?"),
        (("Who opposed the Gull Bank project?", "Fishing groups", "For how long?"),
         "For how long did fishing groups oppose the Gull Bank project?"),
        # a subject question that found no answer is asked again in the passive
        (("Who opposed the Gull Bank project?", NONE, "For how long?"),
         "For how long was the Gull Bank project opposed?"),
        (("Who announced the approval of the Gull Bank wind farm?", NONE, "Where did she announce it?"),
         "Where was the approval of the Gull Bank wind farm announced?"),
        (("Who paid for the measles vaccines?", NONE, "When?"),
         "When? (following up on: Who paid for the measles vaccines?)"),  # "Who died in ...?" takes no passive
        (("How many civilians died in the drone attack?", NONE, "When?"),
         "When did the civilians die in the drone attack?"),
        (("How many health workers took part in the campaign?", "4,000", "Where?"),
         "Where did 4,000 health workers take part in the campaign?"),
        (("How long did the generals' meeting go on for?", "six hours", "And where?"),
         "Where did the generals' meeting go on for six hours?"),
        (("How long did the meeting last?", NONE, "Why did it last so long?"), "Why did the meeting last so long?"),
        (("Who sent the patrol boats to Ukraine?", NONE, "When?"), "When were the patrol boats sent to Ukraine?"),
        (("Who ordered the base closed?", NONE, "When?"), "When was the base ordered closed?"),
        (("Which body announced the call between the generals?", NONE, "Why?"),
         "Why was the call between the generals announced?"),
        (("Who met Gerasimov in Helsinki?", NONE, "When?"), "When was Gerasimov met in Helsinki?"),
        (("Who leads the Russian general staff?", NONE, "When?"),
         "When? (following up on: Who leads the Russian general staff?)"),  # no passive for the present tense
        # a modal after "who" belongs to its verb: the answer becomes its subject
        (("Who will pay half of the cost?", "the national government", "When?"),
         "When will the national government pay half of the cost?"),
        # a year takes "in", a day "on", whatever the earlier question's preposition
        (("On which day did Milley meet Gerasimov?", "2019", "And where?"), "Where did Milley meet Gerasimov in 2019?"),
        (("In which month did Milley meet Gerasimov?", "Wednesday", "And where?"),
         "Where did Milley meet Gerasimov on Wednesday?"),
        # "they" is the answer of a who question; "it" the earlier question's last thing; a named group stays "they"
        (("Who led the opponents of the Kestrel Bay bridge?", "the Harbour Heritage Society",
          "What did they say it would harm?"),
         "What did the Harbour Heritage Society say the Kestrel Bay bridge would harm?"),
        (("Who led the opponents of the Kestrel Bay bridge?", "the Harbour Heritage Society",
          "What did they say it would harm?", "the seal colony on Gannet Rock", "What will they do next?"),
         "What will the Harbour Heritage Society do next?"),
        # a chain keeps "they": a name the earlier question cannot call "they" by itself
        (("Who led the opponents of the Kestrel Bay bridge?", "Harbour Heritage Society",
          "What did they say it would harm?", "the seal colony on Gannet Rock", "What will they do next?"),
         "What will Harbour Heritage Society do next?"),
        # without the answer, "they" is the earlier plural subject with its "of" phrase
        (("Who led the opponents of the Kestrel Bay bridge?", NONE, "What did they say it would harm?", NONE,
          "What will they do next?"),
         "What will the opponents of the Kestrel Bay bridge do next?"),
        # "he" / "she" after a "who is" question that found no answer is whom it described, never a name in it
        (("Who is the mayor of Kestrel Bay?", NONE, "What did she say about the hospital?"),
         "What did the mayor of Kestrel Bay say about the hospital?"),
        (("Who is Grace Phiri?", "Health minister", "What did she say?"), "What did Grace Phiri say?"),
        (("Who is Russia's deputy foreign minister?", NONE, "When did he warn against American troops?", NONE,
          "What word did he use?"),
         "What word did Russia's deputy foreign minister use?"),
        (("Who announced the approval of the Gull Bank wind farm?", NONE, "What else did she say?"),
         "What else did she say? (following up on: Who announced the approval of the Gull Bank wind farm?)"),
        # a leading "and" goes: a question that then stands alone is taken as it is, one that does not is quoted with
        # the earlier one, and the next turn starts from it without its "and"
        (("Where was the measles campaign launched?", "Lilongwe", "And where was the vaccination campaign announced?"),
         "Where was the vaccination campaign announced?"),
        (("How much did the vaccines cost?", "$3 million", "So who paid?"),
         "So who paid? (following up on: How much did the vaccines cost?)"),
        (("Where was the measles campaign launched?", "Lilongwe", "And where did the outbreak begin?", "Karonga",
          "When?"),
         "When did the outbreak begin in Karonga?"),
        # "how many" alone stays alone ("how many people" reads "37 people" of "killed 37 people ... infected 2,000")
        (("How many people has the measles outbreak killed?", "37", "And how many has it infected?"),
         "How many has the measles outbreak infected?"),
        # "they" / "their" after a question about things: those things
        (("How many health workers took part in the measles campaign?", "4,000", "Who supported them?"),
         "Who supported the health workers?"),
        (("Which seabirds will the Norfolk Wildlife Trust watch?", "gannets", "Where is their colony?"),
         "Where is the gannets' colony?"),
        (("Who opposed the Gull Bank project?", "Fishing groups", "For how long?", "two years",
          "How much did the developer agree to pay into a fund for their fleet?"),
         "How much did the developer agree to pay into a fund for fishing groups' fleet?"),
        # a short follow-up about "the" and a new noun is about the earlier question's topic and place ...
        (("How many children were vaccinated against measles in Malawi?", "1.4 million",
          "How long did the campaign last?"),
         "How long did the campaign against measles in Malawi last?"),
        # ... not when its question phrase has a place of its own, or the noun names the earlier event
        (("Who accused Washington of practising a nuclear strike on Russia?", "Sergei Shoigu",
          "How close to the border did the bombers come?"),
         "How close to the border did the bombers come?"),
        (("When did the council vote on the bridge?", "Monday", "How long did the vote take?"),
         "How long did the vote take?"),
        (("How many children were vaccinated against measles in Malawi?", "1.4 million",
          "Where was the vaccination campaign announced?"),
         "Where was the vaccination campaign announced?"),  # a longer phrase: where the topic would go is unclear
        # "such a" names what the earlier question was against or about, when it was against or about something
        (("Which Russian deputy minister warned against American troops in neighbouring countries?", "Sergey Ryabkov",
          "What word did he use for such a deployment?"),
         "What word did Sergey Ryabkov use for such a deployment of American troops in neighbouring countries?"),
        (("Where did Milley meet Gerasimov?", "Helsinki", "Why was such a meeting rare?"),
         "Why was such a meeting rare? (following up on: Where did Milley meet Gerasimov?)"),
        # "it" as the subject after a who question is its one-word answer ...
        (("Who paid for the measles vaccines?", "Gavi", "How much did it provide?"), "How much did Gavi provide?"),
        # ... and without an answer the thing a which question asked for, the named subject, the place asked about
        (("Which airbase did the US lease in Uzbekistan?", NONE, "When did Uzbekistan order it closed?"),
         "When did Uzbekistan order the airbase closed?"),
        (("What was Ukraine seeking from Western allies?", NONE, "When did it say so?"), "When did Ukraine say so?"),
        (("Where is the seal colony?", "Gannet Rock", "What threatens it?"), "What threatens the seal colony?"),
        (("What will the bridge cost?", "85 million euros", "Who will pay for it?"),
         "Who will pay for the cost of the bridge?"),
        (("Where is the Al Udeid airbase?", NONE, "How many US service personnel are there?"),
         "How many US service personnel are at the Al Udeid airbase?"),
        # "there" is the place a which question asked for, or the place the earlier question named (never a time);
        # "it" the site it named
        (("Which airbase in Qatar can the US use to reach Afghanistan?", "Al Udeid airbase",
          "About how many US service personnel are there?"),
         "About how many US service personnel are at Al Udeid airbase?"),
        (("Which airbase in Qatar can the US use to reach Afghanistan?", "Al Udeid airbase",
          "About how many US service personnel are there?", "10,000", "What did it serve as last month?"),
         "What did Al Udeid airbase serve as last month?"),
        (("Which country hosted the talks?", "Finland", "Who else was there?"), "Who else was in Finland?"),
        (("In which city did Milley and Gerasimov hold their meeting?", "Helsinki", "For how long?", "six hours",
          "And what did they talk about there, according to the Russian news service?"),
         "What did Milley and Gerasimov talk about in Helsinki, according to the Russian news service?"),
        (("When did Ryabkov speak in July?", "Tuesday", "Who was there?"),
         "Who was there? (following up on: When did Ryabkov speak in July?)"),
    ],
)
def test_follow_ups_on_subject_questions_groups_and_missing_answers(texts: tuple[str, ...], expected: str) -> None:
    assert resolve_turn(_turns(*texts)).question == expected


def test_parse_finds_a_subject_question_phrase_up_to_its_verb() -> None:
    assert parse("Which Russian news service reported on the Helsinki talks?") == Parsed(
        "Which Russian news service", "which", "reported on the Helsinki talks", False)
    assert parse("How many health workers took part?") == Parsed("How many health workers", "how", "took part", False)
    assert parse("Who will pay half of it?") == Parsed("Who", "who", "will pay half of it", False)
    assert parse("What will they do next?") == Parsed("What", "what", "will they do next", True)


def test_plural_knows_singular_words_ending_in_s() -> None:
    assert [plural(w) for w in ("boats", "opponents", "people", "measles", "news", "bus", "US", "crisis")] == [
        True, True, True, False, False, False, False, False]


def test_a_rewrite_starts_from_the_earlier_turn_not_from_a_quoted_pair() -> None:
    # "Who is the Kremlin spokesman?" after an unrelated question is resolved by quoting that question; the next
    # follow-up starts from the spokesman question alone
    messages = _turns("How long did the meeting last?", "Not found in the articles.", "Who is the Kremlin spokesman?",
                      "Dmitry Peskov", "When did he say it?")
    assert resolve_turn(messages).question == "When did Dmitry Peskov say it?"
    assert parse("Who is it? How long did it last?") is None


def test_the_done_when_follow_up_names_the_meeting_its_parties_and_place() -> None:
    messages = _turns("Where did Milley and Gerasimov meet?", "Helsinki", "How long did it last?")
    assert resolve_turn(messages).question == "How long did the meeting between Milley and Gerasimov in Helsinki last?"


def test_parse_splits_the_question_phrase_from_the_body() -> None:
    assert parse("How many children were vaccinated?") == Parsed("How many children", "how", "were vaccinated", True)
    assert parse("In which country is Al Udeid?") == Parsed("In which country", "which", "is Al Udeid", True)
    assert parse("Who sent the boats?") == Parsed("Who", "who", "sent the boats", False)
    assert parse("Milley met Gerasimov.") is None


def test_an_event_is_named_only_for_a_verb_it_knows() -> None:
    assert event_phrase(parse("Where did Milley meet Gerasimov?"), "Helsinki") == (  # type: ignore[arg-type]
        "the meeting between Milley and Gerasimov in Helsinki")
    assert event_phrase(parse("Where did Milley fly?"), "Helsinki") is None  # type: ignore[arg-type]
    # "Who is the Kremlin spokesman?" names no event: "spokesman" is no participle
    assert event_phrase(parse("Who is the Kremlin spokesman?"), "Dmitry Peskov") is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("Helsinki", "Helsinki"), ("In Helsinki, on Wednesday.", "In Helsinki, on Wednesday"),
     ("Not found in the articles: they do not contain an answer to this question.", None)],
)
def test_last_answer_is_the_span_of_the_reply_or_none(reply: str, expected: str | None) -> None:
    assert last_answer(_turns("Where did they meet?", reply, "And when?")) == expected
