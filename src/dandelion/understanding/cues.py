"""Cross-lingual cue words: one shared feature per idea (a problem is reported, a negation, thanks).

The heads learn complaints from English customer requests (bitext) and polarity from tweets in 8 languages, so a
French "colis perdu, jamais remboursé" or a Polish "paczka nie dotarła" had little to go on and could read as
praise. No redistributable customer-care data exists here in the helper teams' other languages. So each idea has a
short hand-written lexicon in English *and* in fr es pl de it pt nl ro (+ the xlm-t languages where easy), and the
featurizer adds one shared token per idea found (``__problem__``, ``__neg__``, ``__thanks__``). The heads learn
the token's weight from the English (and xlm-t) training data, where it fires on "refund", "not", "thanks"; the
same weight then applies to "remboursé", "nie", "bedankt".
"""


from __future__ import annotations

import re

# Stems and short phrases, lower-case; matched at the start of a word (so "rembours" covers "remboursé",
# "remboursement"). Kept to wording that signals a problem in a customer message.
COMPLAINT_CUES: dict[str, tuple[str, ...]] = {
    "en": (
        "refund", "lost", "missing", "never arrived", "never received", "not arrived", "not received", "still waiting",
        "broken", "damaged", "defective", "unacceptable", "scandal", "scam", "disgrace", "disappointed", "complaint",
        "doesn't work", "does not work", "not working", "stopped working", "crash", "nobody answers", "no answer",
        "no response", "late", "delay", "charged twice", "twice", "ignor", "no solution", "ridiculous", "worst",
        "stolen", "never again", "nobody helps", "waiting", "wrong", "impossible",
    ),
    "fr": (
        "rembours", "colis perdu", "perdu", "jamais reçu", "jamais arrivé", "pas reçu", "pas arrivé", "toujours pas",
        "cassé", "endommagé", "abîmé", "défectueu", "inadmissible", "inacceptable", "scandale", "scandaleu",
        "arnaque", "honteu", "déçu", "déception", "plainte", "réclamation", "ne marche pas", "ne marche plus",
        "ne fonctionne pas", "ne fonctionne plus", "personne ne répond", "aucune réponse", "en retard",
        "j'attends", "deux fois", "ignor", "aucune solution", "ridicule", "pire", "volé", "plus jamais", "personne ne m'aide", "toujours rien",
    ),
    "es": (
        "reembols", "devuelto el dinero", "devolver el dinero", "me devuelvan", "perdido", "nunca llegó",
        "no ha llegado", "no llegó", "no me ha llegado", "todavía no", "roto", "rota", "dañad", "defectuos",
        "inaceptable", "vergüenza", "estafa", "desastre", "pésim", "queja", "reclamación", "no funciona",
        "se cierra", "se cuelga", "nadie contesta", "nadie responde", "nadie me contesta", "nadie me responde",
        "sin respuesta", "retraso",
        "esperando", "dos veces", "ignor", "sin solución", "ninguna solución", "ridícul", "peor", "robad", "nunca más", "nadie me ayuda", "decepcion",
    ),
    "pl": (
        "zwrot", "reklamacj", "zgubi", "zaginęł", "zaginion", "nie dotarł", "nie doszł", "nie przyszł", "uszkodz",
        "zepsut", "wadliw", "skandal", "oszust", "oszuk", "żenując", "fataln", "beznadziejn", "nie działa",
        "zawiesza", "nikt nie odpowiada", "brak odpowiedzi", "opóźni", "spóźni", "nadal nie", "wciąż nie",
        "czekam", "dwa razy", "dwukrotnie", "ignoruj", "bez rozwiązania", "śmieszn", "najgorsz", "ukradzion", "ukradł", "nigdy więcej", "nikt nie pomaga", "rozczarow",
    ),
    "de": (
        "erstatt", "rückerstatt", "geld zurück", "verloren", "nie angekommen", "nicht angekommen", "immer noch nicht",
        "kaputt", "beschädigt", "defekt", "unverschämt", "inakzeptabel", "skandal", "betrug", "katastroph",
        "frechheit", "beschwerde", "reklamation", "funktioniert nicht", "funktioniert nicht mehr", "stürzt",
        "abgestürzt", "niemand antwortet", "keine antwort", "verspät",
        "warte", "doppelt", "zweimal", "ignorier", "keine lösung", "lächerlich", "schlechteste", "gestohlen", "nie wieder", "niemand hilft", "enttäusch",
    ),
    "it": (
        "rimbors", "smarrit", "mai arrivat", "non è arrivat", "non è ancora arrivat", "ancora non", "rotto", "rotta",
        "danneggiat", "difettos", "inaccettabil", "vergogna", "truffa", "pessim", "disastro", "reclamo",
        "non funziona", "si blocca", "nessuno rispond", "nessuna risposta", "in ritardo", "ritardo",
        "aspetto", "due volte", "ignora", "nessuna soluzione", "ridicol", "peggior", "rubat", "mai più", "nessuno mi aiuta", "delus",
    ),
    "pt": (
        "reembols", "estorno", "dinheiro de volta", "perdid", "extraviad", "nunca chegou", "não chegou",
        "ainda não", "quebrad", "danificad", "defeito", "inaceitável", "vergonha", "golpe", "péssim", "absurdo",
        "reclamação", "não funciona", "trava", "travando", "ninguém respond", "sem resposta", "atrasad", "atraso",
        "esperando", "aguardando", "duas vezes", "ignora", "não resolve", "nenhuma solução", "ridícul", "pior", "roubad", "nunca mais", "ninguém me ajuda", "decepcion",
    ),
    "nl": (
        "terugbetal", "geld terug", "kwijt", "verloren", "nooit aangekomen", "niet aangekomen", "nog steeds niet",
        "kapot", "beschadigd", "defect", "schandalig", "onacceptabel", "oplicht", "waardeloos", "klacht",
        "werkt niet", "crasht", "loopt vast", "niemand reageert", "geen reactie", "geen antwoord", "vertraging",
        "te laat",
        "wachten", "wacht al", "twee keer", "negeren", "genegeerd", "geen oplossing", "belachelijk", "slechtste", "gestolen", "nooit meer", "niemand helpt", "teleurgesteld", "doet niks", "doet niets",
    ),
    "ro": (
        "rambursa", "banii înapoi", "banii inapoi", "pierdut", "nu a ajuns", "nu au ajuns", "încă nu", "stricat",
        "deteriorat", "defect", "inacceptabil", "rușine", "țeapă", "dezastru", "reclamați", "nu funcționează",
        "se blochează", "nimeni nu răspunde", "niciun răspuns", "întârzi",
        "aștept", "de două ori", "ignor", "nicio soluție", "ridicol", "cel mai prost", "furat", "niciodată", "nu mă ajută nimeni", "dezamăg",
    ),
}
THANKS_CUES: dict[str, tuple[str, ...]] = {
    "en": ("thank", "thx", "cheers"), "ar": ("شكرا",), "hi": ("धन्यवाद", "shukriya", "dhanyavad"),
    "fr": ("merci",), "es": ("gracias",), "pl": ("dziękuj", "dzięki"), "de": ("danke", "vielen dank"),
    "it": ("grazie",), "pt": ("obrigad",), "nl": ("bedankt", "dank je", "dank u"), "ro": ("mulțumesc", "multumesc"),
}
# whole words only
NEGATIONS: dict[str, tuple[str, ...]] = {
    "en": ("not", "no", "never", "nothing", "nobody", "none", "cannot", "can't", "don't", "doesn't", "didn't",
           "isn't", "wasn't", "won't", "haven't", "hasn't", "couldn't", "wouldn't", "aren't", "n't"),
    "fr": ("ne", "pas", "jamais", "rien", "aucun", "aucune"),
    "es": ("no", "nunca", "nada", "nadie", "ningún", "ninguna", "ninguno", "jamás"),
    "pt": ("não", "nao", "nunca", "nada", "ninguém", "nenhum", "nenhuma"),
    "it": ("non", "mai", "niente", "nessuno", "nessuna"),
    "de": ("nicht", "kein", "keine", "keinen", "keiner", "nie", "niemals", "nichts", "niemand"),
    "nl": ("niet", "geen", "nooit", "niets", "niemand"),
    "pl": ("nie", "nigdy", "nic", "nikt", "żaden", "żadna", "żadne"),
    "ro": ("nu", "niciodată", "nimic", "nimeni", "niciun", "nicio"),
    "ar": ("لا", "لم", "لن", "ليس"), "hi": ("नहीं", "nahi", "nahin", "nai"),
}

def _regex(lexicon: dict[str, tuple[str, ...]], whole_word: bool = False) -> re.Pattern:
    words = sorted({re.escape(c) for cues in lexicon.values() for c in cues}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")" + (r"(?!\w)" if whole_word else ""))


_COMPLAINT_RE = _regex(COMPLAINT_CUES)
_THANKS_RE = _regex(THANKS_CUES)
_NEGATION_RE = _regex(NEGATIONS, whole_word=True)
_NT_RE = re.compile(r"\wn't(?!\w)")


def cue_tokens(text: str) -> list[str]:
    """The shared cue tokens of a lower-cased text."""
    out = []
    if _COMPLAINT_RE.search(text):
        out.append("__problem__")
    if _NEGATION_RE.search(text) or _NT_RE.search(text):
        out.append("__neg__")
    if _THANKS_RE.search(text):
        out.append("__thanks__")
    return out

