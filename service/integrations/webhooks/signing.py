"""Standard Webhooks signing (the `standardwebhooks` package): secrets in the `whsec_`
base64 form, headers `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_BYTES = 32


def new_secret() -> str:
    """A random 32-byte signing secret, `whsec_` + base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def body_of(payload: Mapping[str, Any]) -> str:
    """The exact JSON body sent for a payload (stable, so every retry sends the same bytes)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def signed_headers(*, secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The headers of one attempt: the same `webhook-id` on every retry, the attempt's own
    timestamp (receivers reject stale ones), and the `v1,` HMAC-SHA256 signature."""
    signature = Webhook(secret).sign(msg_id, at, body)
    return {
        "content-type": "application/json",
        "user-agent": "declass-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
