"""Standard Webhooks signing (the `standardwebhooks` package): secrets in the `whsec_`
base64 form, headers `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import base64
import json
import secrets as random_secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    """A random 32-byte signing secret, `whsec_` + base64."""
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(SECRET_BYTES)).decode()


def body_of(payload: Mapping[str, Any]) -> str:
    """The exact JSON body sent for a payload (stable, so every retry sends the same bytes)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def signed_headers(
    *, secrets: Sequence[str], msg_id: str, at: datetime, body: str
) -> dict[str, str]:
    """The headers of one attempt: the same `webhook-id` on every retry, the attempt's own
    timestamp (receivers reject stale ones), and one `v1,` HMAC-SHA256 signature per secret,
    space-separated as Standard Webhooks allows (the current secret's first; after a
    rotation the previous secret's too, until its grace period ends)."""
    signature = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {
        "content-type": "application/json",
        "user-agent": "declass-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
