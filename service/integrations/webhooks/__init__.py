"""Outgoing webhooks: subscriptions, the transactional outbox and the delivery worker."""
