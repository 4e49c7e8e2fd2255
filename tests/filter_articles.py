"""Four articles with distinct dates, site names and hosts, added to a copy of the seed index by the filter tests.

With the seeds the collection holds, by publication date:
    f1_tass_call      2021-11-20  TASS          https://tass.com/...
    003_15bbf...      2021-11-24  (no name)     https://www.themoscowtimes.com/...   (seed)
    f2_bbc_talks      2021-11-24  BBC News      https://www.bbc.co.uk/...
    f3_reuters_hotline 2021-12-01 Reuters       https://www.reuters.com/...
    000_674862...     no date     (no name)     no URL                               (seed)
    f4_wire_brief     no date     Example Wire  no URL
"""

from __future__ import annotations

from typing import Any

from index.documents import Document

MILLEY_DOC = "000_674862a2fea0ee51"
MOSCOW_TIMES_DOC = "003_15bbf54440315bf5"
TASS, BBC, REUTERS, WIRE = "f1_tass_call", "f2_bbc_talks", "f3_reuters_hotline", "f4_wire_brief"

ARTICLES: list[dict[str, Any]] = [
    {
        "doc_id": TASS, "title": "Gerasimov and Milley hold phone call on security issues",
        "url": "https://tass.com/defense/1365001", "published": "2021-11-20", "site_name": "TASS",
        "text": "Gerasimov and Milley hold phone call on security issues\n\n"
                "Chief of the Russian General Staff Valery Gerasimov held a telephone conversation with the "
                "Chairman of the US Joint Chiefs of Staff Mark Milley on Saturday, the Russian Defense Ministry "
                "said. The two generals discussed topical issues of international security and agreed to keep "
                "the channel of military communication open during the winter months.\n\n"
                "The ministry did not give further details of the call. Contacts between the two military chiefs "
                "have become regular since their meeting in Helsinki earlier this year, where they talked for "
                "several hours about strategic stability, arms control and the situation in Afghanistan.",
    },
    {
        "doc_id": BBC, "title": "US and Russian generals continue military talks",
        "url": "https://www.bbc.co.uk/news/world-europe-59400001", "published": "2021-11-24",
        "site_name": "BBC News",
        "text": "US and Russian generals continue military talks\n\n"
                "America's top general Mark Milley and Russia's chief of general staff Valery Gerasimov spoke "
                "again this week, officials in Washington confirmed. The talks come as Western governments voice "
                "concern about a build-up of Russian troops near the border with Ukraine, and as Nato allies "
                "prepare for a meeting of foreign ministers in Riga.\n\n"
                "Analysts say the regular contacts between the two generals are meant to avoid accidents and "
                "misunderstandings between the two militaries. The Pentagon declined to say what Milley told his "
                "counterpart about the troop movements, and the Kremlin said the talks were routine.",
    },
    {
        "doc_id": REUTERS, "title": "Pentagon and Russian military keep hotline busy",
        "url": "https://www.reuters.com/world/pentagon-russia-hotline-2021-12-01/", "published": "2021-12-01",
        "site_name": "Reuters",
        "text": "Pentagon and Russian military keep hotline busy\n\n"
                "General Mark Milley and General Valery Gerasimov spoke by phone on Wednesday for the third time "
                "in a month, a spokesman for the Joint Chiefs of Staff said. The hotline between the two "
                "militaries has been used more often as tensions over Ukraine grow and as both sides accuse each "
                "other of dangerous manoeuvres near the Black Sea.\n\n"
                "The spokesman said the generals agreed to keep talking, and that the conversation was "
                "professional. Russia's defence ministry said the chiefs discussed the situation in Europe and "
                "the prevention of incidents at sea and in the air.",
    },
    {
        "doc_id": WIRE, "title": "Military chiefs of US and Russia in regular contact",
        "url": None, "published": None, "site_name": "Example Wire",
        "text": "Military chiefs of US and Russia in regular contact\n\n"
                "The chairman of the Joint Chiefs of Staff, Mark Milley, and Russia's Valery Gerasimov remain in "
                "regular contact, according to officials on both sides, who describe the talks as a safeguard "
                "against miscalculation between the two largest nuclear powers during a tense period.\n\n"
                "Neither side publishes the dates of the calls. Former officials say such channels matter most "
                "when political relations are poor, and that the generals have met in person in Helsinki and "
                "in Bern to discuss arms control and the war in Afghanistan.",
    },
]


def documents() -> list[Document]:
    """The articles as Documents, as ``POST /documents`` would store them."""
    return [Document(a["doc_id"], a["title"], a["text"], a["url"], a["published"], source="test",
                     published_raw=a["published"], site_name=a["site_name"]) for a in ARTICLES]
