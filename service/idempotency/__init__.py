"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header) for unsafe requests."""
