"""Review sentiment: VADER, plus a small restaurant-domain layer where VADER has no opinion.

VADER's lexicon comes from social-media text; it knows "delicious" and "rude" but not "bland",
"soggy", "undercooked" or "overpriced", and reads "my friend had the fish" as praise. On the
labelled sentences in tests/apps/reviews/ plain VADER labels about two thirds correctly, so
`DOMAIN_LEXICON` adds restaurant words on VADER's own -4..+4 valence scale and `PHRASES`
rewrites a few multi-word expressions ("to die for", "won't be coming back", "waited an hour",
"too salty") into one token that the lexicon scores; VADER's negation, boosters and "but"
rules still apply around them ("not too salty" stays positive). Run
`pytest tests/apps/reviews/test_sentiment.py -s` for the figures.

Labels follow VADER's convention: compound >= 0.05 positive, <= -0.05 negative, else neutral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["positive", "neutral", "negative"]
LABELS: tuple[Label, ...] = ("positive", "neutral", "negative")
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

DOMAIN_LEXICON: dict[str, float] = {
    # food that went right
    "tasty": 2.0,
    "flavorful": 2.0,
    "flavourful": 2.0,
    "mouthwatering": 2.5,
    "scrumptious": 2.5,
    "succulent": 2.0,
    "juicy": 1.5,
    "tender": 1.5,
    "crispy": 1.2,
    "crunchy": 1.0,
    "homemade": 1.0,
    "authentic": 1.2,
    # food that went wrong
    "bland": -1.8,
    "tasteless": -2.0,
    "flavorless": -2.0,
    "flavourless": -2.0,
    "undercooked": -2.0,
    "overcooked": -1.8,
    "burnt": -1.8,
    "soggy": -1.8,
    "mushy": -1.5,
    "watery": -1.5,
    "stale": -1.8,
    "greasy": -1.5,
    "oily": -1.0,
    "rubbery": -1.8,
    "lukewarm": -1.2,
    "cold": -1.2,
    "dry": -1.0,
    "salty": -1.0,
    "inedible": -2.8,
    "microwaved": -1.5,
    # service and place
    "attentive": 1.8,
    "inattentive": -1.8,
    "prompt": 1.2,
    "quick": 1.0,
    "slow": -1.2,
    "sluggish": -1.3,
    "welcoming": 1.8,
    "knowledgeable": 1.5,
    "consistent": 1.2,
    "spotless": 1.8,
    "sticky": -1.0,
    "grimy": -2.0,
    "filthy": -2.5,
    "smelly": -1.8,
    "unhygienic": -2.2,
    "cramped": -1.2,
    "loud": -1.0,
    # price
    "affordable": 1.5,
    "overpriced": -2.0,
    "overcharged": -2.0,
    "pricey": -0.8,
    "expensive": -0.8,
    "ripoff": -2.5,
    "underwhelming": -1.8,
    # words VADER scores that are descriptive in a review ("my friend had", "cards accepted")
    "friend": 0.0,
    "friends": 0.0,
    "accepted": 0.0,
}

# Phrase tokens: scored through the lexicon, so VADER's negation and boosters still apply.
PHRASE_LEXICON: dict[str, float] = {
    "xxdiefor": 2.8,
    "xxreturn": 2.0,
    "xxnoreturn": -2.2,
    "xxlongwait": -1.8,
    "xxcontaminated": -2.5,
    "xxfairprice": 1.8,
    "xxsmallportion": -1.5,
    "xxnotordered": -1.5,
    "xxtoo": -1.0,
}

_NUMBER_OF_MINUTES = (
    r"(?:\d{2,}|twenty|thirty|forty|forty-five|fifty|sixty|ninety)\s+(?:minutes|mins)"
)
_WAIT_LENGTH = (
    r"(?:over\s+|almost\s+|nearly\s+|about\s+|more\s+than\s+|at\s+least\s+)?"
    rf"(?:an?\s+hour|half\s+an\s+hour|\w+\s+hours|{_NUMBER_OF_MINUTES}|forever|ages)"
)

PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), token)
    for pattern, token in (
        (r"\bto\s+die\s+for\b", "xxdiefor"),
        # "won't be coming back" before "coming back", which it contains
        (
            r"\b(?:won'?t|will\s+not|would\s+not|wouldn'?t|never|not)\s+(?:be\s+)?"
            r"(?:(?:coming|going|go|come)\s+back|back|return(?:ing)?)\b",
            "xxnoreturn",
        ),
        (r"\bnever\s+again\b", "xxnoreturn"),
        (
            r"\b(?:will|'ll|can'?t\s+wait\s+to)\s+(?:definitely\s+|certainly\s+|surely\s+)?"
            r"(?:be\s+)?(?:(?:coming|going|go|come)\s+back|back|return(?:ing)?)\b",
            "xxreturn",
        ),
        (rf"\bwait(?:ed|ing)?\s+(?:for\s+)?{_WAIT_LENGTH}", "xxlongwait"),
        (
            r"\b(?:hair|bug|fly|cockroach|roach|insect|plastic|glass)\s+in\s+(?:my|the|our|his|her)\b",
            "xxcontaminated",
        ),
        (r"\b(?:reasonably|fairly|fair)\s+priced\b", "xxfairprice"),
        (r"\b(?:tiny|small|skimpy|meagre|meager|stingy)\s+portions?\b", "xxsmallportion"),
        (r"\b(?:never|didn'?t|did\s+not)\s+order(?:ed)?\b", "xxnotordered"),
        (r"\brip[\s-]+off\b", "ripoff"),
        # "too salty", "too loud": excess is a complaint, unless what follows is praise
        (r"\btoo\s+(?=[a-z])(?!good\b|much\s+fun\b|many\s+good\b)", "xxtoo "),
    )
)


@dataclass(frozen=True)
class Sentiment:
    label: Label
    compound: float


def label_for(compound: float) -> Label:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def rewrite_phrases(text: str) -> str:
    """Replace the domain's multi-word expressions by the single tokens the lexicon scores."""
    text = text.replace("\u2019", "'")  # typographic apostrophes: "won\u2019t" is "won't"
    for pattern, token in PHRASES:
        text = pattern.sub(token, text)
    return text


class SentimentAnalyser:
    """VADER, with the restaurant-domain lexicon and phrase rules unless `domain=False`."""

    def __init__(self, *, domain: bool = True) -> None:
        self.domain = domain
        self._vader = SentimentIntensityAnalyzer()
        if domain:
            self._vader.lexicon.update(DOMAIN_LEXICON)
            self._vader.lexicon.update(PHRASE_LEXICON)

    def analyse(self, text: str) -> Sentiment:
        prepared = rewrite_phrases(text) if self.domain else text
        compound = round(float(self._vader.polarity_scores(prepared)["compound"]), 4)
        return Sentiment(label=label_for(compound), compound=compound)


@lru_cache(maxsize=2)
def analyser(*, domain: bool = True) -> SentimentAnalyser:
    """The process's analyser (loading VADER's lexicon takes a few milliseconds)."""
    return SentimentAnalyser(domain=domain)


def analyse(text: str) -> Sentiment:
    """The label and compound score the platform stores for a review text."""
    return analyser().analyse(text)
