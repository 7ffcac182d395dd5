"""schemathesis against the live OpenAPI document, in process over ASGI.

Every operation of `/openapi.json` is exercised with generated requests under two auth
contexts (a TOP SECRET admin and a CONFIDENTIAL reviewer) on a seeded database: the demo cable
07TOKYO5624 through the API, three corpus-free cables (CONFIDENTIAL, SECRET, TOP SECRET), a
spare user, a service account, a routing rule and a webhook, so path parameters are realistic
(the seeded ref_ids, seq 0..n, the seeded ids) rather than all 404s. Half the cases use those
values, half let schemathesis generate every parameter.

Checks: `not_a_server_error`, `status_code_conformance`, `content_type_conformance`,
`response_schema_conformance`, `response_headers_conformance`, and `ignored_auth` (a
successful request is sent again without a token and with a bad one: both must be
refused). The run is bounded (6 examples per operation and auth context when the route
admits the context, 2 when it refuses it; `derandomize=True`; generation only, no
shrinking) so it costs seconds per database, and it runs on SQLite and PostgreSQL.
Every failure of every operation is collected and reported at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from factories import auth_headers, create_service_account, create_user, make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from review_factories import SEED, P, make_cable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from test_authz_matrix import PUBLIC, RULES

from service.auth.models import Role
from service.markings import Level
from service.settings import Settings

EXAMPLES_PER_OPERATION = 6
REFUSED_EXAMPLES = 2
CONTEXT_ROLES = {"admin": Role.admin, "reviewer-c": Role.reviewer}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    from service.main import create_app

    quiet = settings.model_copy(
        update={"import_worker_enabled": False, "webhook_worker_enabled": False}
    )
    application = create_app(quiet)
    application.state.webhook_resolver = public_resolver
    return application


def public_resolver(host: str, _port: int) -> list[str]:
    """Generated webhook hosts resolve to one public address: no DNS lookups in tests."""
    return ["93.184.216.34"]


@dataclass
class Seed:
    """The seeded objects' path parameters, and one bearer header per auth context."""

    path_values: dict[str, list[str]]
    auth: dict[str, dict[str, str]]
    ran: dict[str, int] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _seed(client: TestClient, engine: Engine) -> Seed:
    admin = make_principal_headers(client, engine, Role.admin)
    _, password = create_user(
        engine,
        username="rc",
        roles=[Role.reviewer],
        clearance=Level.CONFIDENTIAL,
        queues=["general", "foreign-government"],
    )
    reviewer = auth_headers(client, "rc", password)
    create_user(engine, username="spare", roles=[Role.reviewer], clearance=Level.SECRET)
    account, _secret = create_service_account(engine, name="records")
    response = client.post(
        "/api/v1/cables",
        content=SEED.read_bytes(),
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    refs = [response.json()["ref_id"]]
    for level, mark in (("CONFIDENTIAL", "C"), ("SECRET", "S"), ("TOP SECRET", "TS")):
        refs.append(
            make_cable(
                engine,
                classification=level,
                portions=(
                    P("HEADER: A SUBJECT\n", marking=None, level="UNCLASSIFIED"),
                    P(f"1. ({mark}) First paragraph.\n", level=level, marking=mark, number="1"),
                    P(f"2. ({mark}) Second paragraph.\n", level=level, marking=mark, number="2"),
                ),
                assignee="rc",
            )
        )
    supervisor = make_principal_headers(client, engine, Role.supervisor)
    rules = client.get("/api/v1/routing/rules", headers=supervisor).json()["items"]
    assert rules, "the default routing rules are seeded by the migrations"
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "https://records.example.org/hook", "events": ["cable.released"]},
        headers=admin,
    )
    assert hook.status_code == 201, hook.text
    return Seed(
        path_values={
            "ref_id": refs,
            "seq": ["0", "1", "2", "3"],
            "username": ["spare", "nobody"],
            "client_id": [account.client_id],
            "rule_id": [str(rule["id"]) for rule in rules[:2]],
            "webhook_id": [str(hook.json()["id"])],
            "import_id": ["1"],
        },
        auth={"admin": admin, "reviewer-c": reviewer},
    )


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        yield result.ok()


def _path_names(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _admits(context: str, method: str, path: str) -> bool:
    """Whether the route's rule (tests/api/test_authz_matrix.py) lets this context in."""
    rule = RULES.get((method.upper(), path), PUBLIC)
    return rule == PUBLIC or CONTEXT_ROLES[context] in rule


def _fuzz(operation: Any, seed: Seed, context: str, headers: dict[str, str]) -> None:
    """Run the bounded examples of one operation under one auth context."""
    names = _path_names(operation.path)
    realistic = st.fixed_dictionaries(
        {name: st.sampled_from(seed.path_values.get(name, ["1"])) for name in names}
    )
    label = f"{operation.method.upper()} {operation.path} as {context}"
    seen: set[str] = set()

    @settings(
        # A context the route refuses gets a few examples (its 403 is checked), not all.
        max_examples=(
            EXAMPLES_PER_OPERATION
            if _admits(context, operation.method, operation.path)
            else REFUSED_EXAMPLES
        ),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        if names and data.draw(st.booleans()):
            case = data.draw(operation.as_strategy(path_parameters=data.draw(realistic)))
        else:
            case = data.draw(operation.as_strategy())
        seed.ran[label] = seed.ran.get(label, 0) + 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised (the in-process client re-raises it)
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if message not in seen:
                seen.add(message)
                seed.failures.append(f"{label}: server error {message}\n{case.as_curl_command()}")
            return
        seed.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:  # keep every operation's failures and go on
            first = str(exc).strip().splitlines()[0]
            if first not in seen:
                seen.add(first)
                seed.failures.append(f"{label}: {exc}")

    run()


def test_schemathesis_finds_no_server_error_or_schema_break(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    seed = _seed(client, engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for operation in _operations(schema):
        for context, headers in seed.auth.items():
            _fuzz(operation, seed, context, headers)
    total = sum(seed.ran.values())
    print(
        f"schemathesis: {total} examples, {len(seed.ran)} operation x auth contexts, "
        f"{len(seed.failures)} failures; statuses {sorted(seed.statuses.items())}"
    )
    assert len(seed.ran) == 2 * len(list(_operations(schema)))
    for failure in seed.failures:
        print(failure)
    assert seed.failures == []
