"""Language identification: lingua (low-accuracy mode, all 75 languages) fused with a tweet-trained model.

lingua gives breadth (any of its 75 languages, so rare-language messages reach the right vendor); its
low-accuracy mode loads in < 1 s and ~90 MB. On short, noisy posts it confuses close neighbours (pt/es/gl,
nl/af, hi/mr, bg/mk), so two things correct it:

* a prior over languages: those common on social media (and the EU's official ones) weigh 1, the rest
  ``RARE_WEIGHT`` -- a message is far more likely Dutch than Afrikaans;
* the ``language`` head (hashed character n-grams, trained on xlm-t tweets in ar de en es fr hi it pt),
  combined with lingua when lingua finds one of those eight plausible. It also recognises romanised Hindi,
  which lingua cannot.

* orthography: a letter outside a language's alphabet (Polish "ś" in "Bosnian", "á" in "Romanian", "ы" in
  "Macedonian", Urdu "ے" in "Arabic") multiplies that language's odds by ``FOREIGN_LETTER_WEIGHT``; romanised
  Hindi is ASCII, so the tweet model's "hi" gets the same treatment where a text holds Latin diacritics;
* Devanagari text is scored by lingua's high-accuracy Hindi/Marathi models (small: ~0.04 s, ~10 MB), since the
  low-accuracy mode takes most Hindi sentences for Marathi.

lingua's answer in a common language outside the tweet model's eight stands where lingua is ``OUTSIDE_CONF`` sure
and the tweet model is less than ``OUTSIDE_TWEET_MAX`` sure of its own answer, or where lingua is ``OUTSIDE_SURE``
sure: a tweet model at 0.999 on a French tweet is right far more often than lingua's "Catalan" or "Danish".

For speed, where the tweet model is already sure of one of its Latin-script languages, lingua only weighs the
common Latin-script languages (``GATE_LANGS``); elsewhere it weighs all 75.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .features import lid_text

COMMON = frozenset(
    # frequent on social media (Twitter language studies) + official EU languages + large national languages
    ["en", "es", "pt", "fr", "de", "it", "ar", "ru", "ja", "zh", "ko", "hi", "id", "ms", "tr", "pl", "nl", "vi", "th", "fa", "uk", "el", "he", "sv", "ro", "cs", "hu", "tl", "ur", "bn", "ta", "te", "pa", "gu", "bg", "hr", "da", "et", "fi", "ga", "lt", "lv", "mt", "sk", "sl", "ca", "sw", "no", "nb", "nn"]
)
RARE_WEIGHT = 0.2
TOP_K = 8
HINT_BOOST = 4.0
TRUST_LINGUA = 0.8  # lingua's share at which its answer stands (chosen on validation splits)
DEVANAGARI_HIGH_ACCURACY = True
OUTSIDE_CONF = 0.4  # lingua's share of a common language outside the 8 at which its answer stands ...
OUTSIDE_TWEET_MAX = 0.995  # ... and only where the tweet model is less sure than this of its own answer
OUTSIDE_SURE = 0.999  # lingua this sure of a common language outside the 8 always stands
HI_ELSEWHERE = 0.5  # lingua's confidence in another common language at which romanised Hindi is not believed
ROMANISED_HI_MAX_EN = 0.05  # lingua's English share above which romanised Hindi is not believed
# Speed: where the tweet model is this sure of a Latin-script language, lingua only weighs the Latin-script
# languages common on social media (its cost grows with the number of languages: ~5x faster than all 75).
# None disables the shortcut. Chosen on validation splits (papluca valid, xlm-t val).
GATE_CONF = 0.6
GATE_LANGS = ("en", "es", "pt", "fr", "de", "it", "nl", "ca", "gl", "ro", "da", "sv", "nb", "pl", "tr")
# Danish, Norwegian (Bokmål, Nynorsk) and Swedish: lingua's low-accuracy mode confuses them on short posts
# (SIB-200 test cut to 40 characters: Bokmål 0.47, Danish 0.83). Where it places a text among them, the share it
# gives the four is re-split by lingua's high-accuracy models of these four alone (loaded on first use, ~200 MB
# at most; 40-character SIB-200 *dev*: 0.87 accuracy against 0.77 for the low-accuracy models of the same four).
NORDIC_LANGS = ("da", "nb", "nn", "sv")
NORDIC_HIGH_ACCURACY = True
# ... and, where the shipped Scandinavian discriminator is present (``nordic.py``: char n-grams trained on SIB-200
# train + dev), the re-split multiplies its probabilities with lingua's (weight 1 each in log space; SIB-200 dev cut to
# 40 characters, the four alone: lingua 0.871, discriminator 0.876, both 0.917)
NORDIC_LINGUA_WEIGHT = 1.0


# Orthography as evidence: the letters beyond ASCII (Latin script) or the Cyrillic letters each language writes.
# A text holding a letter outside a language's alphabet is unlikely to be in it ("Ktoś" is not Bosnian, "está"
# is not Romanian, "ы" is not Macedonian). Soft (names and loanwords travel): the language's odds are multiplied by
# ``FOREIGN_LETTER_WEIGHT``. Languages not listed (e.g. Vietnamese) are not judged this way.
_LATIN_ALPHABETS = {
    "en": "", "es": "áéíóúüñ", "pt": "áâãàçéêíóôõú", "fr": "àâæçéèêëîïôœùûüÿ", "it": "àèéìíîòóùú",
    "de": "äöüßé", "nl": "áéíóúàèëïöüĳ", "ca": "àèéíïòóúüç", "ro": "ăâîșşțţ", "pl": "ąćęłńóśźż", "da": "æøåé",
    "nb": "æøåéèóôò", "nn": "æøåéèóôò", "sv": "åäöé", "fi": "äöåšž", "et": "äöõüšž", "tr": "çğıöşüâî",
    "az": "çəğıöşü", "cs": "áčďéěíňóřšťúůýž", "sk": "áäčďéíĺľňóôŕšťúýž", "sl": "čšž", "hr": "čćđšž",
    "bs": "čćđšž", "hu": "áéíóöőúüű", "lt": "ąčęėįšųūž", "lv": "āčēģīķļņšūž", "ga": "áéíóú",
    "is": "áðéíóúýþæö", "eu": "ñ", "sq": "çë", "tl": "ñ", "id": "", "ms": "", "sw": "", "so": "", "sn": "",
    "tn": "", "ts": "", "xh": "", "zu": "", "st": "", "lg": "", "eo": "ĉĝĥĵŝŭ", "la": "", "mi": "āēīōū",
    "af": "êëéèôûîïáóúäöüŉ", "cy": "âêîôûŵŷäëïöüáéíóúàèìòù", "yo": "ẹọṣàáèéìíòóùúńḿ",
}
_CYRILLIC_ALPHABETS = {
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя", "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш", "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "kk": "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя", "mn": "абвгдеёжзийклмнопрстуүфхцчшщъыьэюяө",
}
_ARABIC_ALPHABETS = {
    "ar": "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىيٱ",
    "fa": "ءآأؤئابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیۀة",
    "ur": "ءآأؤئابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھیےۃۂ",
}
FOREIGN_LETTER_WEIGHT = 0.01
BEYOND_TWEET_LETTERS = True


_NONE: frozenset[str] = frozenset()


def _script_letters(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The non-ASCII Latin, the Cyrillic and the Arabic-script letters of a text (lower-cased)."""
    if text.isascii():
        return _NONE, _NONE, _NONE
    latin, cyr, arab = set(), set(), set()
    for c in text.lower():
        o = ord(c)
        if o < 0xC0:
            continue
        if (o <= 0x24F or 0x1E00 <= o <= 0x1EFF) and c.isalpha() and c not in "×÷":
            latin.add(c)
        elif 0x400 <= o <= 0x4FF and c.isalpha():
            cyr.add(c)
        elif 0x621 <= o <= 0x6D3 and c.isalpha():
            arab.add(c)
    return frozenset(latin), frozenset(cyr), frozenset(arab)


def _devanagari_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u0900" <= c <= "\u097f") / len(letters)


def _latin_share(text: str) -> float:
    if text.isascii():
        return 1.0
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(1 for c in letters if c < "\u0250") / len(letters)


class LanguageIdentifier:
    def __init__(self, lid_labels: Sequence[str], fuse_weight: float = 0.6, tweet_threshold: float = 0.5,
                 outside_conf: float = OUTSIDE_CONF, trust_lingua: float = TRUST_LINGUA,
                 gate_conf: float | None = GATE_CONF, gate_langs: Sequence[str] = GATE_LANGS, nordic_model=None):
        from lingua import LanguageDetectorBuilder

        self.detector = (
            LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().with_preloaded_language_models()
            .build()
        )
        from lingua import Language

        langs = sorted(Language.all(), key=lambda lang: lang.iso_code_639_1.name)
        self.gate_conf = gate_conf
        gate = [lang for lang in langs if lang.iso_code_639_1.name.lower() in set(gate_langs)]
        self.gate_detector = LanguageDetectorBuilder.from_languages(*gate).with_low_accuracy_mode().build()
        self.codes = [lang.iso_code_639_1.name.lower() for lang in langs]
        self.index = {lang: i for i, lang in enumerate(langs)}
        self.code_index = {c: i for i, c in enumerate(self.codes)}
        self.prior = np.array([1.0 if c in COMMON else RARE_WEIGHT for c in self.codes], dtype=np.float32)
        self.lid_labels = list(lid_labels)
        self.lid_cols = np.array([self.code_index.get(c, -1) for c in self.lid_labels])
        self.fuse_weight = fuse_weight
        self.tweet_threshold = tweet_threshold
        self.outside_conf = outside_conf
        self.trust_lingua = trust_lingua
        self.outside_tweet_max = OUTSIDE_TWEET_MAX
        self.outside_sure = OUTSIDE_SURE
        self.hi_elsewhere = HI_ELSEWHERE
        self.common = np.array([c in COMMON for c in self.codes])
        self.in8 = np.zeros(len(self.codes), dtype=bool)
        self.in8[self.lid_cols[self.lid_cols >= 0]] = True
        self.hi_col = self.lid_labels.index("hi") if "hi" in self.lid_labels else -1
        self.foreign_weight = FOREIGN_LETTER_WEIGHT
        self.latin_alpha = [(self.code_index[c], frozenset(a)) for c, a in _LATIN_ALPHABETS.items() if c in self.code_index]
        self.cyr_alpha = [(self.code_index[c], frozenset(a)) for c, a in _CYRILLIC_ALPHABETS.items() if c in self.code_index]
        self.arab_alpha = [(self.code_index[c], frozenset(a)) for c, a in _ARABIC_ALPHABETS.items() if c in self.code_index]
        self.ar_col = self.lid_labels.index("ar") if "ar" in self.lid_labels else -1
        # the letters the tweet model's Latin-script languages write: a text holding others (Yoruba "ọ ṣ ẹ", Polish
        # "ł") is not one of them, and lingua decides
        self.tweet_latin = frozenset("".join(_LATIN_ALPHABETS.get(c, "") for c in self.lid_labels))
        self.nordic_cols = np.array([self.code_index[c] for c in NORDIC_LANGS if c in self.code_index])
        self.nordic_set = frozenset(int(c) for c in self.nordic_cols)
        self._nordic_detector = None
        self.nordic_model = nordic_model  # nordic.NordicDiscriminator or None (lingua alone re-splits)
        # Hindi and Marathi share the Devanagari script and lingua's low-accuracy mode confuses them; its
        # high-accuracy models for these two load in ~0.04 s and ~10 MB, so Devanagari text is scored with them.
        deva = [lang for lang in langs if lang.iso_code_639_1.name.lower() in ("hi", "mr")]
        self.deva_detector = (
            LanguageDetectorBuilder.from_languages(*deva).with_preloaded_language_models().build()
            if DEVANAGARI_HIGH_ACCURACY else None
        )

    def _nordic(self):
        """lingua's high-accuracy detector for the four Scandinavian written languages, built on first use (its
        models load lazily, so a deployment that never sees them never pays for them)."""
        if self._nordic_detector is None:
            from lingua import LanguageDetectorBuilder

            langs = [lang for lang in self.index if lang.iso_code_639_1.name.lower() in NORDIC_LANGS]
            self._nordic_detector = LanguageDetectorBuilder.from_languages(*langs).build()
        return self._nordic_detector

    def rescore_nordic(self, clean: Sequence[str], Q: np.ndarray) -> np.ndarray:
        """In place: rows whose top language is Scandinavian keep the four's total share, re-split by the
        high-accuracy models. Returns which rows were re-split."""
        cols = self.nordic_cols
        mask = np.zeros(len(clean), dtype=bool)
        if not NORDIC_HIGH_ACCURACY or len(cols) < 2:
            return mask
        top = Q.argmax(axis=1)
        rows = [i for i in range(len(clean)) if clean[i] and top[i] in self.nordic_set and Q[i, top[i]] > 0]
        if not rows:
            return mask
        mask[rows] = True
        texts = [clean[i] for i in rows]
        res = self._nordic().compute_language_confidence_values_in_parallel(texts)
        L = np.zeros((len(rows), len(cols)), dtype=np.float64)
        pos = {int(c): k for k, c in enumerate(cols)}
        for j, r in enumerate(res):
            for cv in r:
                L[j, pos[self.code_index[cv.language.iso_code_639_1.name.lower()]]] = cv.value
        if self.nordic_model is not None:
            from .nordic import NORDIC_LANGS as ORDER

            P = self.nordic_model.proba(texts)[:, [ORDER.index(self.codes[int(c)]) for c in cols]]
            F = np.log(P + 1e-6) + NORDIC_LINGUA_WEIGHT * np.log(L + 1e-4)
            F = np.exp(F - F.max(axis=1, keepdims=True))
            L = F / F.sum(axis=1, keepdims=True)
        for j, i in enumerate(rows):
            Q[i, cols] = float(Q[i, cols].sum()) * L[j]
        return mask

    def lingua_matrix(self, texts: Sequence[str], gated: np.ndarray | None = None) -> np.ndarray:
        """lingua's confidence values (top ``TOP_K``) per text; rows where ``gated`` is set are scored over the
        common Latin-script languages only."""
        Q = np.zeros((len(texts), len(self.codes)), dtype=np.float32)
        index = self.index
        for detector, want in ((self.detector, False), (self.gate_detector, True)):
            rows = [i for i, t in enumerate(texts) if t and (gated is not None and bool(gated[i])) == want]
            if not rows:
                continue
            results = detector.compute_language_confidence_values_in_parallel([texts[i] for i in rows])
            for i, res in zip(rows, results):
                row = Q[i]
                for cv in res[:TOP_K]:
                    row[index[cv.language]] = cv.value
        return Q

    def gate(self, clean: Sequence[str], tweet_probs: np.ndarray) -> np.ndarray:
        """Texts the tweet model is sure are in one of its Latin-script languages (not romanised Hindi)."""
        if self.gate_conf is None:
            return np.zeros(len(clean), dtype=bool)
        best = tweet_probs.argmax(axis=1)
        sure = tweet_probs.max(axis=1) >= self.gate_conf
        latin_label = np.array([c in GATE_LANGS for c in self.lid_labels])[best]
        return sure & latin_label & np.array([_latin_share(t) >= 0.9 for t in clean], dtype=bool)

    def identify(
        self,
        texts: Sequence[str],
        tweet_probs: np.ndarray,
        hints: Sequence[str | None] | None = None,
    ) -> tuple[list[str | None], np.ndarray]:
        clean = [lid_text(t) for t in texts]
        Q = self.lingua_matrix(clean, self.gate(clean, tweet_probs))
        n = len(texts)
        if self.deva_detector is not None:
            deva_rows = [i for i, t in enumerate(clean) if _devanagari_share(t) >= 0.5]
            if deva_rows:
                res = self.deva_detector.compute_language_confidence_values_in_parallel([clean[i] for i in deva_rows])
                for i, r in zip(deva_rows, res):
                    Q[i] = 0.0
                    for cv in r:
                        Q[i, self.index[cv.language]] = cv.value
        nordic = self.rescore_nordic(clean, Q)
        tweet_probs = np.array(tweet_probs, dtype=np.float32, copy=True)
        letters = [_script_letters(t) for t in clean]
        if self.foreign_weight < 1.0:
            for i, (latin, cyr, arab) in enumerate(letters):
                if latin:
                    for col, alpha in self.latin_alpha:
                        if not latin <= alpha:
                            Q[i, col] *= self.foreign_weight
                    if self.hi_col >= 0:  # romanised Hindi is written in ASCII
                        tweet_probs[i, self.hi_col] *= self.foreign_weight
                if cyr:
                    for col, alpha in self.cyr_alpha:
                        if not cyr <= alpha:
                            Q[i, col] *= self.foreign_weight
                if arab:
                    for col, alpha in self.arab_alpha:
                        if not arab <= alpha:
                            Q[i, col] *= self.foreign_weight
                            if col == self.code_index["ar"] and self.ar_col >= 0:
                                tweet_probs[i, self.ar_col] *= self.foreign_weight
            tweet_probs /= tweet_probs.sum(axis=1, keepdims=True)
        Q *= self.prior
        # A language the network or the author declared is evidence, not a verdict: it multiplies its odds.
        hint_cols = np.full(n, -1)
        if hints is not None:
            for i, h in enumerate(hints):
                hint_cols[i] = self.code_index.get((h or "").lower()[:2], -1)
                if hint_cols[i] >= 0:
                    Q[i, hint_cols[i]] = Q[i, hint_cols[i]] * HINT_BOOST + 0.05
        total = Q.sum(axis=1, keepdims=True)
        has = total[:, 0] > 0
        Q = np.divide(Q, total, out=np.zeros_like(Q), where=total > 0)

        # fusion over the tweet model's languages
        cols = self.lid_cols
        valid = cols >= 0
        q8 = np.zeros((n, len(cols)), dtype=np.float32)
        q8[:, valid] = Q[:, cols[valid]]
        fused = np.log(q8 + 1e-4) * self.fuse_weight + np.log(tweet_probs + 1e-6)
        hinted8 = np.array([[c == h for c in cols] for h in hint_cols], dtype=bool).reshape(n, len(cols))
        fused = fused + hinted8 * np.log(HINT_BOOST)
        top = Q.argmax(axis=1)
        top_conf = Q[np.arange(n), top]
        no_hi = np.zeros(n, dtype=bool)
        # The tweet model's "hi" is mostly romanised Hindi, a class that also attracts short English or French
        # posts: it may only win where lingua places the text outside the tweet model's other languages.
        if self.hi_col >= 0:
            lingua_in_other8 = self.in8[top] & (top != self.code_index.get("hi", -2)) & (total[:, 0] > 0)
            english_mass = Q[:, self.code_index["en"]] >= ROMANISED_HI_MAX_EN
            sure_elsewhere = self.common[top] & (top != self.code_index.get("hi", -2)) & (top_conf >= self.hi_elsewhere)
            no_hi = lingua_in_other8 | english_mass | sure_elsewhere
            fused[no_hi, self.hi_col] = -np.inf
        fused = np.exp(fused - fused.max(axis=1, keepdims=True))
        fused /= fused.sum(axis=1, keepdims=True)
        f_best = fused.argmax(axis=1)
        # the tweet model decides among its languages unless lingua is confident of a common language outside them
        tweet_max = tweet_probs.max(axis=1)
        # a re-split Scandinavian row is judged by the four's share together (lingua placed it among them)
        outside_conf = np.where(nordic, Q[:, self.nordic_cols].sum(axis=1) if len(self.nordic_cols) else 0.0,
                                top_conf)
        sure_outside = (outside_conf >= self.outside_conf) & (tweet_max < self.outside_tweet_max)
        sure_outside |= outside_conf >= self.outside_sure
        outside = ~self.in8[top] & self.common[top] & sure_outside
        use_fused = (tweet_probs.max(axis=1) >= self.tweet_threshold) & ~outside
        # and, for text mostly outside the Latin script, unless lingua is sure (script is strong evidence there,
        # and the tweet model never saw e.g. Hindi in Devanagari)
        latin = np.array([_latin_share(t) >= 0.5 for t in clean], dtype=bool)
        use_fused &= latin | (top_conf < self.trust_lingua)
        # romanised Hindi (or any text lingua could not place) that the tweet model is sure about
        latin_hi = (tweet_probs[:, self.hi_col] >= 0.9) if self.hi_col >= 0 else np.zeros(n, bool)
        if self.hi_col >= 0:
            latin_hi &= ~no_hi
        # ... unless the author's declared language says otherwise
        hinted_other = (hint_cols >= 0) & (hint_cols != self.code_index.get("hi", -2))
        latin_hi &= ~hinted_other
        use_fused |= latin_hi & ((top_conf < 0.9) | ~has)
        if BEYOND_TWEET_LETTERS:
            beyond = np.array([bool(sl[0] - self.tweet_latin) for sl in letters], dtype=bool)
            use_fused &= ~beyond
        out: list[str | None] = []
        conf = np.zeros(n, dtype=np.float32)
        for i in range(n):
            if not clean[i] or (not has[i] and not latin_hi[i]):
                h = hints[i] if hints is not None else None
                out.append(h.lower()[:2] if h else None)
                conf[i] = 0.5 if h else 0.0
            elif use_fused[i]:
                out.append(self.lid_labels[f_best[i]])
                conf[i] = fused[i, f_best[i]]
            else:
                out.append(self.codes[top[i]])
                conf[i] = top_conf[i]
        return out, np.clip(conf, 0.0, 1.0)
