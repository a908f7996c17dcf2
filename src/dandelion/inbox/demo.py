"""The inbox part of the demo: canned responses with translations, seeded after the organisation."""

from __future__ import annotations

from dandelion.core.demo import DemoContext

# (unit slug, title, shortcut, language, body, translations): hub answers reach every spoke; the vendor has its own.
CANNED: tuple[tuple[str, str, str, str, str, dict[str, str]], ...] = (
    ("group", "Order not arrived", "order-late", "en",
     ("Hello {contact_name}, we are sorry your order has not arrived yet. Could you send us your order number in a "
      "direct message? {agent_name} will follow it up personally."),
     {"fr": "Bonjour {contact_name}, nous sommes désolés que votre commande ne soit pas encore arrivée. Pouvez-vous "
            "nous envoyer votre numéro de commande en message privé ? {agent_name} s'en occupe personnellement.",
      "es": "Hola {contact_name}, sentimos que tu pedido aún no haya llegado. ¿Nos envías el número de pedido por "
            "mensaje privado? {agent_name} se encarga personalmente.",
      "pl": "Dzień dobry {contact_name}, przepraszamy, że zamówienie jeszcze nie dotarło. Prosimy o numer zamówienia "
            "w wiadomości prywatnej. {agent_name} zajmie się tym osobiście.",
      "ar": "مرحبا {contact_name}، نأسف لتأخر طلبك. هل يمكنك إرسال رقم الطلب في رسالة خاصة؟ {agent_name} سيتابع ذلك."}),
    ("group", "Thanks for the kind words", "thanks", "en",
     "Thank you {contact_name}, that means a lot to the whole team! {agent_name}",
     {"fr": "Merci {contact_name}, cela fait très plaisir à toute l'équipe ! {agent_name}",
      "es": "¡Gracias {contact_name}, nos alegra mucho a todo el equipo! {agent_name}",
      "nl": "Dank je wel {contact_name}, daar is het hele team blij mee! {agent_name}",
      "ro": "Mulțumim {contact_name}, ne bucură mult! {agent_name}"}),
    ("group", "Move to private messages", "dm", "en",
     ("Hello {contact_name}, so that we can look at your account safely, please send us a direct message. "
      "Never share personal data in public. {agent_name}"),
     {"fr": "Bonjour {contact_name}, afin d'examiner votre dossier en toute sécurité, envoyez-nous un message privé. "
            "Ne partagez jamais de données personnelles en public. {agent_name}"}),
    ("france", "Colis perdu", "colis", "fr",
     ("Bonjour {contact_name}, nous sommes désolés pour votre colis. {agent_name} ouvre une enquête auprès du "
      "transporteur et revient vers vous sous 48 h."), {}),
    ("modco", "Acknowledge and route", "ack", "en",
     "Hello {contact_name}, thank you for reaching out to {account_name}. A specialist is looking at your message.",
     {"ar": "مرحبا {contact_name}، شكرا لتواصلك مع {account_name}. يقوم أحد المختصين بمراجعة رسالتك.",
      "sw": "Habari {contact_name}, asante kwa kuwasiliana na {account_name}. Mtaalamu anaangalia ujumbe wako."}),
)


def seed(demo: DemoContext) -> None:
    """Canned responses with translations (through the inbox service, so each is audited)."""
    from dandelion.inbox import services as inbox
    from dandelion.inbox.models import CannedResponse

    for slug, title, shortcut, language, body, translations in CANNED:
        if not CannedResponse.objects.filter(unit=demo.units[slug], shortcut=shortcut).exists():
            inbox.create_canned_response(unit=demo.units[slug], title=title, shortcut=shortcut, body=body,
                                         language=language, translations=translations, actor=demo.hub_admin)
