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

# Follow-bait, giveaway and link-bait (issue 22): YouTube spam teaches the spam head "subscribe to my channel",
# "check out my ..."; the shared ``__bait__`` token carries that weight to the same bait in other languages.
# Phrases only a promoter writes; single words a customer might use ("free", "link", "win") are left out.
BAIT_CUES: dict[str, tuple[str, ...]] = {
    "en": ("followers", "follow me", "follow back", "follow for follow", "f4f", "l4l", "like for like", "sub4sub",
           "subscribe to my", "subscribe my", "check out my", "check my channel", "visit my channel", "my channel",
           "dm me", "giveaway", "give away", "free followers", "free likes", "more followers", "gain followers",
           "click here", "click the link", "link in bio", "link in my bio", "earn money", "make money online",
           "work from home", "free gift card", "free iphone", "you have won", "you won a", "claim your"),
    "fr": ("abonnés", "abonnes-toi", "abonne-toi", "abonnez-vous", "suivez-moi", "suis-moi", "follow moi", "ma chaîne",
           "ma chaine", "concours", "gagnez", "tentez de gagner", "cliquez ici", "clique ici", "lien en bio",
           "lien dans ma bio", "écris-moi en dm", "ecris moi en dm", "envoie-moi un dm", "gagner de l'argent",
           "vous avez gagné", "followers gratuits", "likes gratuits"),
    "de": ("follower", "folgt mir", "folge mir", "abonniert mich", "abonniert meinen", "abonnier meinen",
           "mein kanal", "meinen kanal", "gewinnspiel", "jetzt gewinnen", "gewinne ein", "klick hier", "klicke hier",
           "link in bio", "link in meiner bio", "schreib mir per dm", "schreib mir eine dm", "geld verdienen",
           "sie haben gewonnen", "du hast gewonnen", "kostenlose follower"),
    "es": ("seguidores", "sígueme", "sigueme", "seguime", "suscríbete", "suscribete", "mi canal", "sorteo",
           "gana un", "gana una", "haz clic", "haz click", "link en bio", "enlace en bio", "enlace en mi bio",
           "escríbeme al dm", "escribeme al dm", "mándame dm", "ganar dinero", "has ganado", "seguidores gratis"),
    "pt": ("seguidores", "me segue", "me siga", "sigam-me", "segue de volta", "inscreva-se", "se inscreve",
           "meu canal", "sorteio", "ganhe", "clique aqui", "link na bio", "me chama no direct", "me chama na dm",
           "ganhar dinheiro", "você ganhou", "seguidores grátis"),
    "it": ("seguimi", "seguitemi", "iscriviti", "il mio canale", "giveaway", "concorso", "vinci", "clicca qui",
           "link in bio", "scrivimi in dm", "scrivimi in direct", "guadagnare soldi", "hai vinto",
           "follower gratis"),
}


def _regex(lexicon: dict[str, tuple[str, ...]], whole_word: bool = False) -> re.Pattern:
    words = sorted({re.escape(c) for cues in lexicon.values() for c in cues}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")" + (r"(?!\w)" if whole_word else ""))


_COMPLAINT_RE = _regex(COMPLAINT_CUES)
_THANKS_RE = _regex(THANKS_CUES)
_NEGATION_RE = _regex(NEGATIONS, whole_word=True)
_BAIT_RE = _regex(BAIT_CUES)
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
    if _BAIT_RE.search(text):
        out.append("__bait__")
    return out



def has_bait(text: str) -> bool:
    """Whether a lower-cased text holds follow-bait, giveaway or link-bait wording (``BAIT_CUES``)."""
    return _BAIT_RE.search(text) is not None


# The unambiguous part of the bait wording: an offer of followers / likes / prizes / easy money, or a plug for
# one's own channel or bio link. Where it fires, the analyzer raises the spam score (``analyzer.BAIT_SPAM_LOGIT``).
# Left out on purpose, since customers write them to support teams (twcs): "dm me", "follow me", "my channel(s)",
# "subscribe to my (plan)", "click the link", "follow back".
STRONG_BAIT_CUES: dict[str, tuple[str, ...]] = {
    "en": ("0k followers", "00 followers", "free followers", "free likes", "more followers", "gain followers",
           "get followers", "followers fast", "f4f", "l4l", "sub4sub", "follow for follow", "like for like",
           "giveaway", "check out my channel", "check my channel", "visit my channel", "subscribe to my channel",
           "link in bio", "link in my bio", "make money online", "earn money from home", "make money from home",
           "you have won", "claim your prize", "free gift card", "free iphone"),
    "fr": ("0k abonnés", "00 abonnés", "abonnés gratuits", "followers gratuits", "likes gratuits",
           "abonnez-vous à ma chaîne", "abonne-toi à ma chaîne", "abonnez vous à ma chaine", "suis-moi et je te suis",
           "concours", "tentez de gagner", "gagnez un", "lien en bio", "lien dans ma bio",
           "gagner de l'argent depuis chez", "gagner de l'argent en ligne", "vous avez gagné"),
    "de": ("0k follower", "00 follower", "kostenlose follower", "mehr follower", "folgt mir, ich folge",
           "ich folge zurück", "gewinnspiel", "jetzt gewinnen", "abonniert meinen kanal", "abonnier meinen kanal",
           "link in bio", "link in meiner bio", "geld verdienen von zu hause", "sie haben gewonnen"),
    "es": ("0k seguidores", "00 seguidores", "mil seguidores", "seguidores gratis", "más seguidores",
           "sígueme y te sigo", "sigueme y te sigo", "sorteo", "gana un", "suscríbete a mi canal",
           "suscribete a mi canal", "link en bio", "enlace en bio", "enlace en mi bio", "ganar dinero desde casa",
           "has ganado"),
    "pt": ("0k seguidores", "00 seguidores", "mil seguidores", "seguidores grátis", "mais seguidores",
           "me segue que eu sigo", "sigo de volta", "sorteio", "ganhe um", "inscreva-se no meu canal",
           "se inscreve no meu canal", "link na bio", "ganhar dinheiro em casa", "você ganhou"),
    "it": ("0k follower", "00 follower", "follower gratis", "più follower", "seguimi e ti seguo", "giveaway",
           "concorso", "vinci un", "iscriviti al mio canale", "link in bio", "guadagnare soldi da casa",
           "hai vinto"),
}
_STRONG_BAIT_RE = _regex(STRONG_BAIT_CUES)
# a count of followers on offer: "10k followers", "5.000 seguidores", "10 mil seguidores", "500 free likes"
_FOLLOWER_COUNT_RE = re.compile(
    r"(?<!\w)\d[\d.,]*\s*(?:k|mil)?\s*(?:free |new |real )?(?:followers?|abonnés|seguidores|likes)(?!\w)"
)


def has_strong_bait(text: str) -> bool:
    """Whether a lower-cased text holds unambiguous bait wording (``STRONG_BAIT_CUES``, or followers on offer)."""
    return _STRONG_BAIT_RE.search(text) is not None or _FOLLOWER_COUNT_RE.search(text) is not None
