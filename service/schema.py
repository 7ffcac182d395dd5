"""Imports every table module so `SQLModel.metadata` is complete (Alembic, tests)."""

from sqlmodel import SQLModel

from service import orm  # noqa: F401  (naming convention first)
from service.audit import models as audit_models  # noqa: F401
from service.auth import models as auth_models  # noqa: F401
from service.cables import models as cable_models  # noqa: F401
from service.idempotency import models as idempotency_models  # noqa: F401
from service.integrations import import_models  # noqa: F401
from service.integrations.webhooks import models as webhook_models  # noqa: F401
from service.review import models as review_models  # noqa: F401
from service.routing import models as routing_models  # noqa: F401

metadata = SQLModel.metadata
