"""Phrases and people for the demo traffic generator (``demo.py``). Plain data, one block per language.

Each language has ``names`` (display name, country, optional handle for non-Latin scripts), texts per intent
(``question``, ``complaint``, ``praise``), customer ``followups`` in a thread and the brand's ``echo`` answers
(``{name}`` is the customer's first name). ``{order}`` and ``{days}`` are filled with numbers. ``SPAM`` is shared.
"""

from __future__ import annotations

from typing import TypedDict


class LanguageCorpus(TypedDict):
    names: list[tuple[str, str, str | None]]
    question: list[str]
    complaint: list[str]
    praise: list[str]
    followups: list[str]
    echo: list[str]


CORPUS: dict[str, LanguageCorpus] = {
    "en": {
        "names": [
            ("Emily Carter", "GB", None),
            ("James Okafor", "NG", None),
            ("Priya Sharma", "IN", None),
            ("Liam Walsh", "IE", None),
            ("Grace Mensah", "GH", None),
            ("Tom Baker", "US", None),
        ],
        "question": [
            "Hi, when will my order {order} arrive?",
            "How do I reset my password? The link never comes.",
            "Do you ship to Lagos?",
            "Is the Manchester store open on Sundays?",
            "Can I still return an item after {days} days?",
        ],
        "complaint": [
            "Order {order} still hasn't arrived after {days} days. Not happy.",
            "Your app keeps crashing when I try to log in 😡",
            "Been on hold for an hour and nobody answers. Terrible service.",
            "I was charged twice for order {order}. Please fix this ASAP.",
        ],
        "praise": [
            "Thanks for sorting this out so quickly, great service!",
            "Love the new collection, delivery was super fast 🙌",
            "Shout-out to your support team, they were brilliant today.",
        ],
        "followups": ["Any update on this?", "Still waiting...", "Thanks, that worked!", "Sent you a DM."],
        "echo": [
            "Hi {name}, sorry about this! Please DM us your order number and we'll look into it.",
            "Thanks {name}, glad we could help! 😊",
        ],
    },
    "fr": {
        "names": [
            ("Camille Martin", "FR", None),
            ("Julien Lefèvre", "FR", None),
            ("Aminata Diop", "SN", None),
            ("Sophie Dubois", "BE", None),
            ("Mathieu Tremblay", "CA", None),
            ("Nadia Benali", "FR", None),
        ],
        "question": [
            "Bonjour, quand est-ce que ma commande {order} sera livrée ?",
            "Comment je peux changer mon mot de passe ?",
            "Vous avez une boutique à Lyon ?",
            "Est-ce que la livraison est gratuite à Dakar ?",
        ],
        "complaint": [
            "Toujours pas reçu ma commande {order}, ça fait {days} jours !!",
            "L'appli plante à chaque connexion, c'est pénible.",
            "Personne ne répond au service client, c'est inadmissible.",
            "J'ai été débité deux fois pour la commande {order}, merci de corriger.",
        ],
        "praise": [
            "Merci beaucoup pour votre aide rapide, au top !",
            "Livraison en avance et produit impeccable, bravo 👏",
            "Super accueil en magasin aujourd'hui, merci à l'équipe.",
        ],
        "followups": [
            "Des nouvelles ?",
            "Toujours rien...",
            "Merci, ça marche !",
            "Je vous ai envoyé un MP.",
        ],
        "echo": [
            "Bonjour {name}, désolés pour ce souci ! Envoyez-nous votre numéro de commande en message privé.",
            "Merci {name}, ravis d'avoir pu vous aider !",
        ],
    },
    "es": {
        "names": [
            ("Lucía García", "ES", None),
            ("Javier Fernández", "ES", None),
            ("Sofía Hernández", "MX", None),
            ("Mateo González", "AR", None),
            ("Valentina Rojas", "CO", None),
            ("Carlos Ruiz", "ES", None),
        ],
        "question": [
            "Hola, ¿cuándo llega mi pedido {order}?",
            "¿Cómo puedo cambiar mi contraseña?",
            "¿Tienen tienda en Sevilla?",
            "¿Hacen envíos a Ciudad de México?",
        ],
        "complaint": [
            "Mi pedido {order} sigue sin llegar después de {days} días.",
            "La app no funciona desde ayer, no puedo entrar.",
            "Llevo horas esperando y nadie me contesta. Pésimo servicio.",
            "Me cobraron dos veces el pedido {order}, ¿qué pasa?",
        ],
        "praise": [
            "¡Gracias por la ayuda tan rápida! Excelente atención.",
            "Me encantó el producto, llegó antes de lo previsto 😍",
        ],
        "followups": [
            "¿Alguna novedad?",
            "Sigo esperando...",
            "¡Gracias, ya funciona!",
            "Les escribí por privado.",
        ],
        "echo": [
            "Hola {name}, lamentamos las molestias. Escríbenos por mensaje privado con tu número de pedido.",
            "¡Gracias {name}! Nos alegra haberte ayudado.",
        ],
    },
    "pl": {
        "names": [
            ("Katarzyna Nowak", "PL", None),
            ("Piotr Kowalski", "PL", None),
            ("Anna Wiśniewska", "PL", None),
            ("Tomasz Zieliński", "PL", None),
            ("Magdalena Lewandowska", "PL", None),
            ("Michał Wójcik", "PL", None),
        ],
        "question": [
            "Dzień dobry, kiedy dotrze moje zamówienie nr {order}?",
            "Jak mogę zmienić hasło w aplikacji?",
            "Czy macie sklep w Krakowie?",
        ],
        "complaint": [
            "Zamówienie {order} nadal nie dotarło, to już {days} dni!",
            "Aplikacja ciągle się zawiesza, nie mogę się zalogować.",
            "Nikt nie odpowiada na moje wiadomości, fatalna obsługa.",
        ],
        "praise": [
            "Dziękuję za szybką pomoc, super obsługa!",
            "Paczka przyszła dzień wcześniej, jestem zachwycona 😊",
        ],
        "followups": ["Są jakieś nowe informacje?", "Nadal czekam...", "Dzięki, działa!"],
        "echo": [
            "Cześć {name}, przepraszamy! Napisz do nas prywatną wiadomość z numerem zamówienia.",
            "Dziękujemy {name}, cieszymy się, że mogliśmy pomóc!",
        ],
    },
    "ro": {
        "names": [
            ("Andreea Popescu", "RO", None),
            ("Mihai Ionescu", "RO", None),
            ("Elena Dumitru", "RO", None),
            ("Ion Rusu", "MD", None),
            ("Ioana Stan", "RO", None),
            ("Alexandru Munteanu", "RO", None),
        ],
        "question": [
            "Bună ziua, când ajunge comanda mea {order}?",
            "Cum îmi pot schimba parola?",
            "Aveți magazin în Cluj?",
        ],
        "complaint": [
            "Comanda {order} tot nu a ajuns, aștept de {days} zile!",
            "Aplicația nu merge deloc de ieri.",
            "Nu răspunde nimeni la telefon, e inadmisibil.",
        ],
        "praise": [
            "Mulțumesc mult pentru ajutor, sunteți minunați!",
            "Livrare rapidă și produs de calitate, recomand!",
        ],
        "followups": ["Aveți vreo noutate?", "Încă aștept...", "Mulțumesc, acum merge!"],
        "echo": [
            "Bună {name}, ne pare rău! Trimite-ne numărul comenzii în mesaj privat.",
            "Mulțumim {name}, ne bucurăm că am putut ajuta!",
        ],
    },
    "nl": {
        "names": [
            ("Sanne de Vries", "NL", None),
            ("Daan Jansen", "NL", None),
            ("Lotte Bakker", "NL", None),
            ("Pieter Peeters", "BE", None),
            ("Emma Visser", "NL", None),
            ("Bram Mertens", "BE", None),
        ],
        "question": [
            "Hoi, wanneer wordt mijn bestelling {order} geleverd?",
            "Hoe kan ik mijn wachtwoord wijzigen?",
            "Hebben jullie ook een winkel in Utrecht?",
        ],
        "complaint": [
            "Mijn bestelling {order} is na {days} dagen nog steeds niet binnen!",
            "De app crasht steeds, ik kan niet inloggen.",
            "Al drie keer gebeld en niemand helpt me verder. Slechte service.",
        ],
        "praise": ["Bedankt voor de snelle hulp, top service!", "Pakket was een dag eerder binnen, super 👍"],
        "followups": ["Al nieuws?", "Nog steeds aan het wachten...", "Bedankt, het werkt nu!"],
        "echo": [
            "Hoi {name}, wat vervelend! Stuur ons je bestelnummer via een privébericht.",
            "Dank je {name}, fijn dat we konden helpen!",
        ],
    },
    "ar": {
        "names": [
            ("محمد العلوي", "MA", "m_alaoui"),
            ("فاطمة الزهراء", "MA", "fatimazahra"),
            ("أحمد حسن", "EG", "ahmed_hassan"),
            ("نورة السبيعي", "SA", "noura_s"),
            ("يوسف خليل", "AE", "youssef_kh"),
            ("سارة منصور", "EG", "sara_mansour"),
        ],
        "question": [
            "مرحبا، متى يصل طلبي رقم {order}؟",
            "كيف يمكنني تغيير كلمة المرور؟",
            "هل لديكم فرع في الدار البيضاء؟",
        ],
        "complaint": [
            "طلبي رقم {order} لم يصل بعد، هذا غير مقبول!",
            "التطبيق لا يعمل منذ الأمس ولا أستطيع تسجيل الدخول",
            "انتظرت {days} أيام ولم يرد علي أحد",
        ],
        "praise": ["شكرا جزيلا على الخدمة الممتازة 👏", "فريق رائع، تم حل مشكلتي بسرعة"],
        "followups": ["هل من جديد؟", "ما زلت أنتظر...", "شكرا، تم الحل!"],
        "echo": ["مرحبا {name}، نعتذر عن الإزعاج. يرجى مراسلتنا برقم الطلب.", "شكرا {name}، سعداء بخدمتك!"],
    },
    "wo": {
        "names": [
            ("Moussa Ndiaye", "SN", None),
            ("Fatou Sow", "SN", None),
            ("Cheikh Fall", "SN", None),
            ("Awa Diallo", "SN", None),
            ("Ibrahima Gueye", "SN", None),
            ("Mame Diarra Faye", "SN", None),
        ],
        "question": [
            "Salaam aleekum, kañ la sama commande {order} di ñëw?",
            "Naka laa mënee soppi sama mot de passe?",
            "Ndax am ngeen boutique ci Thiès?",
        ],
        "complaint": [
            "Sama commande {order} agseegul, fan la nekk?",
            "Application bi dafa bug, mënuma dugg.",
            "Maa ngi xaar {days} fan te kenn tontuwuma.",
        ],
        "praise": ["Jërëjëf, service bi baax na lool!", "Jërëjëf ci gaawaay gi, colis bi agsi na!"],
        "followups": ["Am na lu bees?", "Maa ngi xaar rekk...", "Jërëjëf, dafa dox léegi!"],
        "echo": [
            "Salaam {name}, baal nu ci jafe-jafe bi. Yónnee nu sa numéro commande ci message privé.",
            "Jërëjëf {name}!",
        ],
    },
    "am": {
        "names": [
            ("አበበ ተሰማ", "ET", "abebe_tesema"),
            ("ሰላም ገብሬ", "ET", "selam_g"),
            ("ዮሐንስ ታደሰ", "ET", "yohannes_t"),
            ("ሄለን መኮንን", "ET", "helen_m"),
            ("ዳዊት አለሙ", "ET", "dawit_alemu"),
            ("ቤተልሄም ካሳ", "ET", "betty_kassa"),
        ],
        "question": ["ሰላም፣ ትዕዛዜ {order} መቼ ይደርሳል?", "የይለፍ ቃሌን እንዴት መቀየር እችላለሁ?", "አዲስ አበባ ውስጥ ቅርንጫፍ አላችሁ?"],
        "complaint": [
            "ትዕዛዜ {order} እስካሁን አልደረሰም። በጣም ተበሳጭቻለሁ።",
            "መተግበሪያው አይሰራም፣ መግባት አልቻልኩም።",
            "ለ{days} ቀናት ጠብቄአለሁ ምንም መልስ የለም።",
        ],
        "praise": ["በጣም አመሰግናለሁ! አገልግሎታችሁ በጣም ጥሩ ነው።", "ፈጣን ምላሽ ስለሰጣችሁኝ እናመሰግናለን።"],
        "followups": ["አዲስ ነገር አለ?", "አሁንም እየጠበቅኩ ነው...", "አመሰግናለሁ፣ አሁን ይሰራል!"],
        "echo": ["ሰላም {name}፣ ስለተፈጠረው ችግር ይቅርታ። እባክዎ የትዕዛዝ ቁጥርዎን በግል መልዕክት ይላኩልን።", "እናመሰግናለን {name}!"],
    },
}

SPAM: list[tuple[str, str]] = [
    ("en", "🔥 Earn $500 a day from home! Click bit.ly/3xFr33Cash now"),
    ("en", "Want 10k followers FAST? 👉 DM me, cheap prices!!!"),
    ("en", "Congratulations! You won a free iPhone, claim here: tinyurl.com/fr33-ph0ne"),
    ("fr", "Gagnez un iPhone 15 gratuit ici 👉 bit.ly/cadeau-gratuit"),
    ("es", "Gana dinero fácil con criptomonedas 💰 escríbeme por privado"),
    ("ar", "اربح 1000 دولار يوميا من البيت، راسلني الآن 💸"),
    ("pl", "Zarabiaj 2000 zł dziennie! Kliknij link w bio 🔥"),
]

LANGUAGE_WEIGHTS: dict[str, int] = {
    "en": 25,
    "fr": 18,
    "es": 14,
    "ar": 10,
    "pl": 7,
    "ro": 7,
    "nl": 7,
    "wo": 6,
    "am": 6,
}
INTENT_WEIGHTS: dict[str, int] = {"question": 35, "complaint": 35, "praise": 18, "spam": 12}
