"""Fixtures for API tests: accounts with a role and a clearance, and their bearer headers.

def test_something(client, principal_headers):
    headers = principal_headers(Role.reviewer, Level.CONFIDENTIAL)
    client.get("/api/v1/cables", headers=headers)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from factories import make_principal_headers
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.auth.models import Role
from service.markings import Level

HeadersFactory = Callable[..., dict[str, str]]


@pytest.fixture
def principal_headers(client: TestClient, engine: Engine) -> HeadersFactory:
    """`principal_headers(role, clearance=Level.TOP_SECRET)` -> bearer headers of a new
    account holding that role."""

    def make(role: Role, clearance: Level = Level.TOP_SECRET) -> dict[str, str]:
        return make_principal_headers(client, engine, role, clearance)

    return make


@pytest.fixture
def admin_headers(principal_headers: HeadersFactory) -> dict[str, str]:
    """Bearer headers of a TOP SECRET admin."""
    return principal_headers(Role.admin)
