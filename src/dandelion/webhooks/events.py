"""The webhooks app's own event type: the test event an admin sends from a subscription's page."""

from dandelion.core.events import register_type

TEST = register_type("webhook.test", "Test event", subject_type="webhooks.webhooksubscription",
                     description="Sent on demand (the 'Send test event' button); never sent otherwise.",
                     example={"message": "This is a test event from Dandelion.", "subscription_id": 3})
