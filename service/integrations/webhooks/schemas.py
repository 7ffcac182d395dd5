"""Webhook response schemas added after `service.integrations.schemas` (secret rotation)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WebhookSecretRotated(BaseModel):
    """Returned once, on rotation: the new signing secret."""

    id: int
    secret: str = Field(description="The new `whsec_...` secret; it signs every delivery now")
    previous_secret_valid_until: datetime | None = Field(
        description=(
            "Until then deliveries also carry a signature made with the replaced secret "
            "(null: the grace period is 0 and the replaced secret no longer signs)"
        )
    )
