"""Issue 22: abuse beyond English, multilingual spam bait, the per-language abuse bias (tests that fail when the
new heads break). Hand-written probes, not dataset text; dataset checks skip when ../shared/datasets is absent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dandelion.understanding import data as D
from dandelion.understanding.metrics import macro_f1

from .test_understanding import _sample, datasets_or_skip

PROBES = Path(__file__).with_name("spam_probes.json")


@pytest.fixture(scope="module")
def analyzer():
    from dandelion.understanding.analyzer import get_analyzer

    return get_analyzer()


def _probes():
    return json.loads(PROBES.read_text(encoding="utf-8"))


def test_probe_set_covers_six_languages_both_ways():
    probes = _probes()
    langs = {p["lang"] for p in probes}
    assert {"en", "fr", "de", "es", "pt", "it"} <= langs
    for lang in langs:
        assert sum(p["spam"] for p in probes if p["lang"] == lang) >= 5
        assert sum(not p["spam"] for p in probes if p["lang"] == lang) >= 4


def test_follow_bait_is_spam_not_praise(analyzer):
    (u,) = analyzer.analyze(["Want 10k followers FAST? DM me"])
    assert u.spam >= 0.9, u
    assert u.intent != "praise" and not u.needs_reply, u


def test_spam_probe_set(analyzer):
    """Bait, giveaways and link-bait in six languages read as spam; customer posts in the same languages do not."""
    probes = _probes()
    res = analyzer.analyze([p["text"] for p in probes])
    spam_hits = [u.spam >= 0.5 for p, u in zip(probes, res) if p["spam"]]
    ham_hits = [u.spam < 0.5 for p, u in zip(probes, res) if not p["spam"]]
    assert np.mean(spam_hits) >= 0.85, [(p["text"], round(u.spam, 2)) for p, u in zip(probes, res) if p["spam"]]
    assert all(ham_hits), [(p["text"], round(u.spam, 2)) for p, u in zip(probes, res) if not p["spam"]]
    for lang in {p["lang"] for p in probes}:  # every language, not the English average
        hits = [u.spam >= 0.5 for p, u in zip(probes, res) if p["spam"] and p["lang"] == lang]
        assert np.mean(hits) >= 0.6, lang
    assert not any(u.intent == "praise" for p, u in zip(probes, res) if p["spam"] and u.spam >= 0.9)


def test_bait_cue_is_shared_across_languages():
    from dandelion.understanding.cues import cue_tokens
    from dandelion.understanding.features import normalize

    for text in ("Check out my channel", "Abonnez-vous à ma chaîne", "Folgt mir", "Sígueme", "Me segue",
                 "Seguimi", "GIVEAWAY time"):
        assert "__bait__" in cue_tokens(normalize(text)), text
    for text in ("My parcel never arrived", "Merci pour votre aide", "Ich folge den Anweisungen"):
        assert "__bait__" not in cue_tokens(normalize(text)), text


ABUSIVE = [
    ("de", "Du bist so ein dummes Arschloch, halt endlich die Fresse."),
    ("de", "Was für ein widerlicher Vollidiot, einfach nur peinlich."),
    ("pt", "Cala a boca, seu idiota imbecil do caralho."),
    ("pt", "Que vagabunda nojenta, vai se foder."),
    ("ro", "Esti un idiot si un prost, taci din gura."),
    ("en", "Shut up you stupid idiot, nobody cares about you."),
]
FRIENDLY = [
    ("de", "Vielen Dank für die schnelle Lieferung, alles bestens."),
    ("pt", "Obrigado pelo atendimento, resolveram tudo rápido."),
    ("ro", "Mulțumesc pentru ajutor, comanda a ajuns azi."),
    ("en", "Thanks for sorting out my order so quickly."),
]


def test_insults_beyond_english_are_abusive(analyzer):
    res = analyzer.analyze([t for _, t in ABUSIVE])
    assert all(u.abuse >= 0.5 for u in res), [(t, round(u.abuse, 2)) for (_, t), u in zip(ABUSIVE, res)]
    res = analyzer.analyze([t for _, t in FRIENDLY])
    assert all(u.abuse < 0.5 for u in res), [(t, round(u.abuse, 2)) for (_, t), u in zip(FRIENDLY, res)]


def test_abuse_language_offsets_are_applied(analyzer):
    offsets = analyzer.abuse_offsets
    assert set(offsets) >= {"en", "de", "pt", "ro"}
    probs = {"abuse": np.array([0.5, 0.5]), "abuse_logit": np.array([0.0, 0.0], dtype=np.float32)}
    out = analyzer.abuse_scores(probs, ["de", "xx"])
    assert out[1] == pytest.approx(0.5)  # a language with no training data keeps the shared head
    assert out[0] == pytest.approx(1 / (1 + np.exp(-offsets["de"])), abs=1e-5)


@pytest.mark.parametrize("lang", ["de", "pt", "ro"])
def test_abuse_beats_majority_on_held_out_samples(analyzer, lang):
    root = datasets_or_skip({"de": "germeval2018_offensive", "pt": "told_br_toxic", "ro": "ro_offense"}[lang])
    _, (tt, yy) = D.abuse_test_sets(root)[lang]
    tt, yy = _sample(tt, yy, n=500)
    pr = [int(u.abuse >= 0.5) for u in analyzer.analyze(tt)]
    majority = max(macro_f1(yy, [k] * len(yy), 2) for k in (0, 1))  # ~0.40-0.44
    assert macro_f1(yy, pr, 2) > majority + 0.2, lang


def test_abuse_readers_mask_users_and_keep_splits_apart():
    root = datasets_or_skip("germeval2018_offensive")
    tt, yy = D.germeval(root, "train")
    assert tt and all("@" not in t.replace("@USER", "") or "@USER" in t for t in tt[:200])
    assert not any(t.startswith("@") and not t.startswith("@USER") for t in tt)
    assert set(yy) == {0, 1}
    datasets_or_skip("told_br_toxic")
    pt, _ = D.toldbr(root, "test")
    assert sum("não" in t for t in pt) > 100  # the GBK mojibake ("n茫o") undone
    keys = D.test_keys(root)
    for lang in ("de", "pt", "ro", "fr", "ar"):
        assert all(D.text_key(t) in keys for t in D.abuse_test_sets(root)[lang][1][0] if D.text_key(t))


NORDIC_PROBE = [
    ("da", "Jeg har ikke modtaget min pakke endnu, hvad sker der?"),
    ("nb", "Jeg har ikke mottatt pakken min ennå, hva skjer?"),
    ("nn", "Eg har ikkje fått pakken min enno, kva skjer?"),
    ("sv", "Jag har inte fått mitt paket än, vad händer?"),
]


def test_scandinavian_neighbours_are_told_apart(analyzer):
    """Written for this test: the same short complaint in Danish, Bokmål, Nynorsk and Swedish."""
    res = analyzer.analyze([t for _, t in NORDIC_PROBE])
    assert [u.language for u in res] == [lang for lang, _ in NORDIC_PROBE]


def test_nordic_rescoring_keeps_the_scandinavian_share():
    from dandelion.understanding.langid import NORDIC_LANGS, LanguageIdentifier

    lid = LanguageIdentifier(["ar", "de", "en", "es", "fr", "hi", "it", "pt"])
    Q = np.zeros((2, len(lid.codes)), dtype=np.float32)
    Q[0, lid.code_index["da"]], Q[0, lid.code_index["de"]] = 0.6, 0.4  # placed among the four: re-split
    Q[1, lid.code_index["de"]], Q[1, lid.code_index["da"]] = 0.7, 0.3  # German first: left alone
    before = Q.copy()
    mask = lid.rescore_nordic(["Jeg har ikke mottatt pakken min ennå", "Ich habe mein Paket nicht"], Q)
    assert mask.tolist() == [True, False]
    cols = [lid.code_index[c] for c in NORDIC_LANGS]
    assert Q[0, cols].sum() == pytest.approx(0.6, abs=1e-5) and Q[0, lid.code_index["de"]] == pytest.approx(0.4)
    assert Q[0].argmax() == lid.code_index["nb"]
    assert np.array_equal(Q[1], before[1])
