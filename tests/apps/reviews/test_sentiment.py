"""The analyser: accuracy on the labelled sentences, negation, and the label thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.reviews.sentiment import SentimentAnalyser, analyse, label_for
from apps.reviews.services import bayesian_score
from tests.apps.reviews.conftest import accuracy_lines

HERE = Path(__file__).parent
SETS = {
    "development": HERE / "sentences_dev.tsv",
    "held-out": HERE / "sentences_holdout.tsv",
}


def labelled(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, sentence = line.split("\t")
            rows.append((label, sentence))
    return rows


def accuracy(analyser: SentimentAnalyser, rows: list[tuple[str, str]]) -> float:
    return sum(analyser.analyse(text).label == label for label, text in rows) / len(rows)


def test_the_labelled_set_is_large_enough_and_covers_negation():
    rows = [row for path in SETS.values() for row in labelled(path)]
    sentences = {text.lower() for _, text in rows}
    assert len(rows) >= 60
    assert {label for label, _ in rows} == {"positive", "neutral", "negative"}
    assert "not bad at all for the price." in sentences
    assert any(text.startswith("no problems") for text in sentences)


def test_domain_layer_beats_plain_vader_on_the_labelled_sentences():
    plain, domain = SentimentAnalyser(domain=False), SentimentAnalyser(domain=True)
    everything = [row for path in SETS.values() for row in labelled(path)]
    lines = []
    for name, rows in [*((n, labelled(p)) for n, p in SETS.items()), ("all", everything)]:
        before, after = accuracy(plain, rows), accuracy(domain, rows)
        lines.append(
            f"{name:>11} ({len(rows):3d} sentences): plain VADER {before:6.1%}"
            f"  with domain layer {after:6.1%}  gain {after - before:+.1%}"
        )
    accuracy_lines[:] = lines
    print("\n" + "\n".join(lines))
    assert accuracy(domain, everything) >= 0.85
    assert accuracy(domain, labelled(SETS["held-out"])) > accuracy(
        plain, labelled(SETS["held-out"])
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Not bad at all.", "positive"),
        ("No problems whatsoever.", "positive"),
        ("The fries were not too salty.", "positive"),
        ("Too salty.", "negative"),
        ("We won\u2019t be coming back.", "negative"),
        ("We will definitely be coming back.", "positive"),
        ("The desserts are to die for.", "positive"),
        ("We waited an hour for a table.", "negative"),
        ("My friend had the fish.", "neutral"),
    ],
)
def test_domain_rules_read_negation_and_restaurant_phrases(text, label):
    assert analyse(text).label == label


def test_labels_follow_vader_thresholds():
    assert label_for(0.05) == "positive"
    assert label_for(0.0499) == "neutral"
    assert label_for(-0.0499) == "neutral"
    assert label_for(-0.05) == "negative"


def test_compound_is_rounded_and_bounded():
    result = analyse("Absolutely wonderful, the best dinner we have had in years!")
    assert result.label == "positive"
    assert 0.05 <= result.compound <= 1.0
    assert round(result.compound, 4) == result.compound


def test_one_glowing_review_does_not_beat_a_hundred_good_ones():
    assert bayesian_score(0.95, 1) < bayesian_score(100 * 0.6, 100)
    assert bayesian_score(0.95, 1) > bayesian_score(0.0, 0)
    assert bayesian_score(-0.9, 1) > bayesian_score(100 * -0.6, 100)
