"""Readers for the public datasets in ``../shared/datasets`` (never vendored into this repository).

Each reader returns plain lists. ``test`` splits are read only by the evaluation; training readers call
:func:`test_keys` to drop any training text that also appears in a test file (the English sets share upstream
sources: SemEval tweets sit in both xlm-t and tweeteval).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from functools import lru_cache
from pathlib import Path

from .features import normalize

XLMT_LANGS = {
    "arabic": "ar", "english": "en", "french": "fr", "german": "de",
    "hindi": "hi", "italian": "it", "portuguese": "pt", "spanish": "es",
}
TWEETEVAL_TASKS = ("sentiment", "offensive", "hate", "emotion", "irony")
YOUTUBE_FILES = ("Youtube01-Psy", "Youtube02-KatyPerry", "Youtube03-LMFAO", "Youtube04-Eminem", "Youtube05-Shakira")

# bitext's 27 intents -> our four. Customer requests for information or an action need an answer: "question".
# Reports of something that went wrong: "complaint". Bitext holds no praise and no chit-chat; those two
# classes are learned from real tweets (see training.py).
BITEXT_INTENT_MAP = {
    "complaint": "complaint",
    "payment_issue": "complaint",
    "registration_problems": "complaint",
}
BITEXT_DEFAULT_INTENT = "question"


def datasets_dir(path: str | os.PathLike | None = None) -> Path:
    if path:
        return Path(path)
    if os.environ.get("DANDELION_DATASETS"):
        return Path(os.environ["DANDELION_DATASETS"])
    here = Path(__file__).resolve()
    for parent in here.parents:  # the repo root holds pyproject.toml; datasets live beside it
        if (parent / "pyproject.toml").exists():
            return parent.parent / "shared" / "datasets"
    return Path.cwd().parent / "shared" / "datasets"


_KEY_RE = re.compile(r"@user|httpurl|[\W_]+")


def text_key(text: str) -> str:
    return _KEY_RE.sub("", normalize(text))


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def xlmt(root: Path, lang_dir: str, split: str) -> tuple[list[str], list[int]]:
    base = root / "xlm_t_sentiment" / lang_dir
    texts = _lines(base / f"{split}_text.txt")
    labels = [int(x) for x in _lines(base / f"{split}_labels.txt")]
    assert len(texts) == len(labels), (lang_dir, split)
    return texts, labels


def tweeteval(root: Path, task: str, split: str) -> tuple[list[str], list[int]]:
    base = root / "tweeteval" / task
    texts = _lines(base / f"{split}_text.txt")
    labels = [int(x) for x in _lines(base / f"{split}_labels.txt")]
    assert len(texts) == len(labels), (task, split)
    return texts, labels


def tweeteval_predictions(root: Path, task: str) -> list[int]:
    return [int(x) for x in _lines(root / "tweeteval" / "predictions_roberta_retrained" / f"{task}.txt")]


def xlmt_all_predictions(root: Path) -> tuple[list[str], list[int], list[int]]:
    """XLM-T's published predictions on ``all/test`` with that file's texts and labels."""
    texts, labels = xlmt(root, "all", "test")
    preds = [int(x) for x in _lines(root / "xlm_t_sentiment" / "predictions_xlm_t" / "all.txt")]
    return texts, labels, preds[: len(texts)]


def davidson(root: Path) -> tuple[list[str], list[int]]:
    with open(root / "davidson_hate_offensive" / "labeled_data.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["tweet"] for r in rows], [int(r["class"]) for r in rows]


def youtube(root: Path) -> list[tuple[str, str, int]]:
    out = []
    for name in YOUTUBE_FILES:
        with open(root / "youtube_spam_collection" / f"{name}.csv", encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                out.append((name, r["CONTENT"], int(r["CLASS"])))
    return out


def sms(root: Path) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    with open(root / "sms_spam_collection" / "SMSSpamCollection.tsv", encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if label in ("ham", "spam"):
                texts.append(text)
                labels.append(int(label == "spam"))
    return texts, labels


def bitext_split(text: str) -> str:
    """Deterministic 80/20 split of bitext (it ships none): ``test`` when md5(text) % 5 == 0."""
    return "test" if int(hashlib.md5(text.encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


def bitext(root: Path, split: str | None = None) -> tuple[list[str], list[str], list[str]]:
    """(texts, bitext intents, our intents)."""
    path = root / "bitext_customer_support_intents" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    texts, raw, mapped = [], [], []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            t = r["instruction"]
            if split and bitext_split(t) != split:
                continue
            texts.append(t)
            raw.append(r["intent"])
            mapped.append(BITEXT_INTENT_MAP.get(r["intent"], BITEXT_DEFAULT_INTENT))
    return texts, raw, mapped


def papluca(root: Path, split: str = "test") -> tuple[list[str], list[str]]:
    with open(root / "papluca_language_identification" / f"{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["labels"] for r in rows]


def twcs_inbound(root: Path) -> tuple[list[str], list[bool]]:
    """Inbound customer tweets and whether a brand answered them (a reply authored by a non-inbound account)."""
    with open(root / "twcs_customer_support" / "twcs_combined_10k.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    inbound_by_id = {r["tweet_id"]: r["inbound"] == "True" for r in rows}
    texts, answered = [], []
    for r in rows:
        if r["inbound"] != "True":
            continue
        replies = [x.strip() for x in r["response_tweet_id"].split(",") if x.strip()]
        known = [x for x in replies if x in inbound_by_id]
        if known:
            ans = any(not inbound_by_id[x] for x in known)
        else:
            ans = bool(replies)
        texts.append(r["text"])
        answered.append(ans)
    return texts, answered


@lru_cache(maxsize=4)
def test_keys(root: Path) -> frozenset[str]:
    """Keys of every test text of the sets we train on (used to drop overlaps from training data)."""
    keys: set[str] = set()
    for task in TWEETEVAL_TASKS:
        p = root / "tweeteval" / task / "test_text.txt"
        if p.exists():
            keys.update(text_key(t) for t in _lines(p))
    for lang_dir in list(XLMT_LANGS) + ["all"]:
        p = root / "xlm_t_sentiment" / lang_dir / "test_text.txt"
        if p.exists():
            keys.update(text_key(t) for t in _lines(p))
    texts, _, _ = bitext(root, "test")
    keys.update(text_key(t) for t in texts)
    if (root / "germeval2018_offensive").exists():
        for _, (texts, _) in abuse_test_sets(root).values():
            keys.update(text_key(t) for t in texts)
    keys.discard("")
    return frozenset(keys)


# ---------------- offensive language beyond English (issue 22) ----------------
_USER_RE = re.compile(r"@\w+")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")


def md5_split(text: str, salt: str = "") -> str:
    """A deterministic fifth for sets that ship no validation (or no test) split: ``val``/``test`` when
    md5(salt + text) % 5 == 0, else ``train``. The caller names what the fifth is used for."""
    return "test" if int(hashlib.md5((salt + text).encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


def germeval(root: Path, split: str) -> tuple[list[str], list[int]]:
    """GermEval 2018 coarse task (OFFENSE -> 1). Real @usernames are masked as @USER before anything reads them;
    ``|LBR|`` line-break markers become spaces."""
    name = "germeval2018.training.txt" if split == "train" else "germeval2018.test.txt"
    texts, labels = [], []
    for line in _lines(root / "germeval2018_offensive" / name):
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        texts.append(_USER_RE.sub("@USER", parts[0]).replace("|LBR|", " "))
        labels.append(int(parts[1].strip() == "OFFENSE"))
    return texts, labels


def _fix_gbk_mojibake(text: str) -> str:
    """ToLD-Br's split files hold some lines whose UTF-8 was read as GBK ("não" -> "n茫o"); undo that where it
    round-trips, leave every other line as it is."""
    if not _CJK_RE.search(text):
        return text
    try:
        return text.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def toldbr(root: Path, split: str) -> tuple[list[str], list[int]]:
    """ToLD-Br, the authors' binary split (toxic when two annotators agree); ``split`` in train/validation/test."""
    with open(root / "told_br_toxic" / f"ptbr_{split}_2annotator.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [_fix_gbk_mojibake(r["text"]) for r in rows], [int(float(r["toxic"])) for r in rows]


def ro_offense(root: Path, split: str) -> tuple[list[str], list[int]]:
    """RO-Offense: OTHER -> 0, PROFANITY / INSULT / ABUSE -> 1."""
    with open(root / "ro_offense" / f"{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [int(r["label"] != "OTHER") for r in rows]


def mlma(root: Path, lang: str, split: str | None = None) -> tuple[list[str], list[int]]:
    """MLMA hostility (fr, ar, en): single-label ``normal`` -> 0, every other label -> 1 (the authors' binary
    reading). No split ships: ``split`` takes the md5 fifth (``test``) or the rest (``train``)."""
    with open(root / "mlma_hate_speech" / f"{lang}_dataset.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    texts, labels = [], []
    for r in rows:
        t = r["tweet"]
        if split and md5_split(t, "mlma") != split:
            continue
        texts.append(t)
        labels.append(int(r["sentiment"].strip() != "normal"))
    return texts, labels


def abuse_test_sets(root: Path) -> dict[str, tuple[str, tuple[list[str], list[int]]]]:
    """language -> (name, (texts, labels)) of each held-out offensive-language test split."""
    return {
        "en": ("tweeteval offensive test", tweeteval(root, "offensive", "test")),
        "de": ("GermEval 2018 test", germeval(root, "test")),
        "pt": ("ToLD-Br test", toldbr(root, "test")),
        "ro": ("RO-Offense test", ro_offense(root, "test")),
        "fr": ("MLMA fr held-out fifth + 300 xlm-t fr test tweets", _mlma_paired(root, "fr", "french")),
        "ar": ("MLMA ar held-out fifth + 300 xlm-t ar test tweets", _mlma_paired(root, "ar", "arabic")),
    }


def _mlma_paired(root: Path, lang: str, xlmt_dir: str, n_neutral: int = 300) -> tuple[list[str], list[int]]:
    """MLMA's test fifth (almost all hostile) paired, as in training, with ordinary tweets of the language: the
    first ``n_neutral`` of xlm-t's test tweets (read as non-offensive; never trained on)."""
    t, y = mlma(root, lang, "test")
    n = xlmt(root, xlmt_dir, "test")[0][:n_neutral]
    return t + n, y + [0] * len(n)


def sib200(root: Path, folder: str, split: str = "test") -> list[str]:
    """SIB-200 sentences of one ``<lang_Script>`` folder (FLORES-200; the given split kept)."""
    with open(root / "sib200_languages" / "data" / folder / f"{split}.tsv", encoding="utf-8", newline="") as f:
        return [r["text"] for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def cut(text: str, n: int) -> str:
    """The first ``n`` characters, not ending inside a word where a space allows (a short post, not a fragment)."""
    text = text.strip().strip('"')
    if len(text) <= n:
        return text
    head = text[:n]
    return head.rsplit(" ", 1)[0] if " " in head[n // 2 :] else head


AFRISENTI_LANGS = ("amh", "arq", "ary", "hau", "ibo", "kin", "orm", "pcm", "por", "swa", "tir", "tso", "twi", "yor")
AFRISENTI_LABELS = {"negative": 0, "neutral": 1, "positive": 2}


def afrisenti(root: Path, lang: str, split: str) -> tuple[list[str], list[int]]:
    """AfriSenti (SemEval-2023 Task 12) tweets of one language folder and split, labels 0 neg / 1 neu / 2 pos
    (orm and tir ship no train split: empty lists)."""
    path = root / "afrisenti_sentiment" / lang / f"{split}.tsv"
    if not path.exists() or path.stat().st_size == 0:
        return [], []
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            t, y = (r.get("tweet") or "").strip(), AFRISENTI_LABELS.get((r.get("label") or "").strip())
            if t and y is not None:
                texts.append(t)
                labels.append(y)
    return texts, labels
