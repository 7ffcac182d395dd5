"""OWASP API Security Top 10 (2023): at least one test per item, named after it.

Where another module already proves an item, it is referenced here rather than repeated:

- API1 BOLA: `test_clearance_leak.py` (no SECRET text in any response over the whole corpus);
  here: every `{ref_id}` and `{seq}` route, generated from the route table, answers an
  above-clearance object exactly as it answers an unknown one.
- API2 broken authentication: `test_authz_matrix.py` (no token -> 401 on every non-public
  route, generated), `test_auth_tokens.py` (forged, expired, `alg=none`, oversized tokens ->
  401 on every protected route), `test_auth.py` (login throttling -> 429); here: the set of
  public routes is exactly the expected one.
- API3 BOPLA: every request body refuses unknown fields (from the OpenAPI document); a
  decision smuggling `status`/`version`/`assignee` is 422 and changes nothing; no response
  schema has a password or secret hash.
- API4 resource consumption: body limits (413), page sizes (422), spans per decision (422),
  expensive-query budgets (429 + Retry-After), rows per import; import bytes:
  `test_imports_api.py` (413).
- API5 BFLA: `test_authz_matrix.py` (route table x roles, generated); here: no mutating
  route is open to every role.
- API6 sensitive flows: `test_review_run.py` ("the decider may not approve their own
  decision"); here: over HTTP, the decider's approve is 403 and nothing changes.
- API7 SSRF: `test_webhooks_api.py::test_refused_urls_are_422` (private, loopback,
  link-local, metadata, CGNAT, mapped, credentials, non-http schemes); here: redirects are
  not followed.
- API8 misconfiguration: no stack trace in a 500; nosniff; no-store on portion responses;
  TRACE -> 405.
- API9 inventory: every route is in the committed docs/openapi.json and nothing else.
- API10 unsafe consumption: `test_imports.py` / `test_import_source.py` (import rows are
  parsed and validated one by one, bad rows rejected with a reason); here: a webhook
  receiver's response body is never stored or reflected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import auth_headers, create_user, make_principal_headers
from fastapi import FastAPI
from fastapi.testclient import TestClient
from review_factories import P, make_cable, portion_row
from sqlalchemy import Engine
from test_authz_matrix import ANY_ROLE, PUBLIC, RULES, app_routes

from service.auth.models import Role
from service.auth.principal import system_principal
from service.auth.ratelimit import SlidingWindow, expensive_group
from service.db import unit_of_work
from service.integrations import imports
from service.integrations.csv_source import ImportFormat
from service.integrations.import_models import ImportRunner, ImportStatus
from service.integrations.import_runner import RunnerOptions, run_job
from service.integrations.webhooks.delivery import DeliveryPolicy, Due, send
from service.integrations.webhooks.signing import new_secret
from service.main import create_app
from service.markings import Level
from service.settings import Settings, load_settings

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
TS_REF, UNKNOWN_REF = "07TSTS0001", "07NONE0001"
C_REF = "07CONF0001"
# Bodies that pass validation, so the answer is about the object, not the body.
BODIES: dict[str, dict[str, Any]] = {
    "decision": {"action": "release"},
    "return": {"note": "again"},
    "referral": {"answer": "release"},
    "assignee": {"username": "rc"},
}


def _offline(path: Path) -> FastAPI:
    return create_app(
        load_settings(
            database_url=f"sqlite:///{path}",
            environment="test",
            jwt_secret="offline-" + "0123456789abcdef" * 3,
            import_worker_enabled=False,
            webhook_worker_enabled=False,
        )
    )


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application for what needs its route table or OpenAPI document only: it never
    connects to a database, so these tests cost no database copy."""
    return _offline(tmp_path_factory.mktemp("offline") / "never-opened.db")


def _ts_portions() -> tuple[P, ...]:
    return (
        P("HEADER: TS SUBJECT\n", level="TOP SECRET", marking=None),
        P("1. (TS) Top secret paragraph one.\n", level="TOP SECRET", marking="TS", number="1"),
    )


def _mixed_portions() -> tuple[P, ...]:
    return (
        P("HEADER: C SUBJECT\n", level="CONFIDENTIAL", marking=None),
        P("1. (TS) Top secret paragraph one.\n", level="TOP SECRET", marking="TS", number="1"),
        P("2. (C) Confidential paragraph two.\n", number="2"),
    )


def _caller_for(rule: Any) -> Role:
    roles = sorted(ANY_ROLE if rule == PUBLIC else rule, key=lambda r: r.value)
    return Role.reviewer if Role.reviewer in roles else roles[0]


def _call(
    client: TestClient, method: str, template: str, headers: dict[str, str], **ids: Any
) -> Any:
    last = template.rstrip("/").rsplit("/", 1)[-1]
    kwargs: dict[str, Any] = {}
    if last in BODIES:
        kwargs["json"] = BODIES[last]
    if "{seq}" in template and method != "GET":
        headers = {**headers, "If-Match": '"1"'}
    return client.request(method, template.format(**ids), headers=headers, **kwargs)


def _no_secret_text(response: Any) -> None:
    assert b"Top secret paragraph" not in response.content
    assert b"TS SUBJECT" not in response.content


def test_api1_bola_above_clearance_portions_are_withheld_and_cannot_be_acted_on(
    app: FastAPI, client: TestClient, engine: Engine
) -> None:
    """Generated from the route table: every `{ref_id}` and `{seq}` route, called by a
    CONFIDENTIAL holder of a role the route admits, on TOP SECRET portions (of a cable
    entirely TOP SECRET, and of a CONFIDENTIAL cable). By contract (API.md) a cable and its
    portions are listed to any caller with the text withheld, so existence is not secret:
    reads answer 200 with `text: null`, writes are refused (403), nothing changes, and no
    response carries a word of the TOP SECRET text. An unknown portion is a 404."""
    make_cable(engine, ref_id=TS_REF, classification="TOP SECRET", portions=_ts_portions())
    make_cable(engine, ref_id=C_REF, portions=_mixed_portions())
    create_user(engine, username="rc", roles=[Role.reviewer], clearance=Level.CONFIDENTIAL)
    callers: dict[Role, dict[str, str]] = {}
    checked = []
    for method, path in sorted(app_routes(app)):
        if "{ref_id}" not in path:
            continue
        role = _caller_for(RULES[(method, path)])
        if role not in callers:
            callers[role] = make_principal_headers(client, engine, role, Level.CONFIDENTIAL)
        headers = callers[role]
        for ref in (C_REF, TS_REF):
            answer = _call(client, method, path, headers, ref_id=ref, seq=1)
            _no_secret_text(answer)
            if "{seq}" not in path:
                assert answer.status_code < 500, (method, path, answer.text)
                continue
            unknown = _call(client, method, path, headers, ref_id=ref, seq=7)
            if method == "GET":
                assert answer.status_code == 200, (method, path)
                assert (answer.json()["text"], answer.json()["withheld_for_clearance"]) == (
                    None,
                    True,
                )
                assert unknown.status_code == 404
            else:
                # 409 is a referral on a portion not referred: the state check runs first.
                assert answer.status_code in (403, 409), (method, path, answer.text)
                assert unknown.status_code == 404, (method, path, unknown.text)
        checked.append((method, path))
    assert len(checked) == 11
    # Nothing above clearance was changed by any of those calls.
    assert portion_row(engine, TS_REF, 1).version == 1
    assert portion_row(engine, C_REF, 1).version == 1


def test_api2_only_the_expected_routes_are_public() -> None:
    public = sorted(route for route, rule in RULES.items() if rule == PUBLIC)
    assert public == [
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/healthz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/readyz"),
        ("POST", "/api/v1/auth/token"),
    ]


def _snapshot() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return loaded


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _objects(spec: dict[str, Any], schema: dict[str, Any], seen: set[str]) -> Iterator[Any]:
    """Every object schema reachable from `schema` (through $ref, items, anyOf, properties)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
        yield from _objects(spec, spec["components"]["schemas"][name], seen)
        return
    if schema.get("type") == "object" or "properties" in schema:
        yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _objects(spec, part, seen)
    if "items" in schema:
        yield from _objects(spec, schema["items"], seen)
    for value in schema.get("properties", {}).values():
        yield from _objects(spec, value, seen)


def test_api3_bopla_every_json_body_refuses_unknown_fields(offline_app: FastAPI) -> None:
    spec = offline_app.openapi()
    open_bodies = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is None:
                continue
            for obj in _objects(spec, schema, set()):
                if "properties" in obj and obj.get("additionalProperties") is not False:
                    open_bodies.append((method, path, obj.get("title")))
    assert open_bodies == []


def test_api3_bopla_a_decision_cannot_set_status_version_or_assignee(
    client: TestClient, engine: Engine
) -> None:
    _, password = create_user(
        engine, username="rc", roles=[Role.reviewer], clearance=Level.CONFIDENTIAL
    )
    reviewer = auth_headers(client, "rc", password)
    ref = make_cable(engine, assignee="rc")
    before = portion_row(engine, ref, 1)
    for field, value in (
        ("status", "approved"),
        ("version", 99),
        ("assignee", "mallory"),
        ("roles", ["admin"]),
        ("clearance", "TOP SECRET"),
    ):
        response = client.put(
            f"/api/v1/cables/{ref}/portions/1/decision",
            json={"action": "release", field: value},
            headers={**reviewer, "If-Match": f'"{before.version}"'},
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", field]
    after = portion_row(engine, ref, 1)
    assert (after.status, after.version, after.assignee) == (
        before.status,
        before.version,
        before.assignee,
    )


def test_api3_bopla_a_user_cannot_be_given_a_password_hash_or_be_made_admin_by_a_stranger(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    create_user(engine, username="target", roles=[Role.reviewer], clearance=Level.CONFIDENTIAL)
    smuggled = client.patch(
        "/api/v1/users/target", json={"password_hash": "$argon2id$x"}, headers=admin_headers
    )
    assert smuggled.status_code == 422
    reviewer = make_principal_headers(client, engine, Role.reviewer)
    escalation = client.patch("/api/v1/users/target", json={"roles": ["admin"]}, headers=reviewer)
    assert escalation.status_code == 403
    shown = client.get("/api/v1/users/target", headers=admin_headers).json()
    assert shown["roles"] == ["reviewer"]


SECRET_FIELD = re.compile(r"password|secret_hash|hash_of_secret|private", re.IGNORECASE)


def test_api3_bopla_no_response_schema_exposes_a_password_or_secret_hash(
    offline_app: FastAPI,
) -> None:
    spec = offline_app.openapi()
    exposed = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    for obj in _objects(spec, media.get("schema", {}), set()):
                        exposed += [
                            (method, path, code, name)
                            for name in obj.get("properties", {})
                            if SECRET_FIELD.search(name)
                        ]
    assert exposed == []
    # The one-time secrets are only in the responses that create (or rotate) them.
    holders = {
        (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for response in operation["responses"].values()
        for media in response.get("content", {}).values()
        for obj in _objects(spec, media.get("schema", {}), set())
        if {"secret", "client_secret"} & set(obj.get("properties", {}))
    }
    assert holders <= {
        ("post", "/api/v1/service-accounts"),
        ("post", "/api/v1/webhooks"),
        ("post", "/api/v1/webhooks/{webhook_id}/secret"),
    }


# API4 -----------------------------------------------------------------------------------


def test_api4_json_bodies_over_64_kib_are_413_and_cable_text_may_be_larger(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    big = {"username": "x" * (65 * 1024), "password": "p", "roles": [], "clearance": "U"}
    response = client.post("/api/v1/users", json=big, headers=admin_headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The request body is larger than the limit of 65536 bytes"
    cable = client.post(
        "/api/v1/cables",
        content=b"NOT A CABLE\n" * 10_000,  # 120 KB: under the cable limit, so it is read
        headers={**admin_headers, "Content-Type": "text/plain"},
    )
    assert cable.status_code == 422, cable.text


def test_api4_every_page_size_is_capped(
    app: FastAPI, client: TestClient, admin_headers: dict[str, str]
) -> None:
    spec = app.openapi()
    capped = []
    for path, item in spec["paths"].items():
        get = item.get("get", {})
        limit = next((p for p in get.get("parameters", []) if p["name"] == "limit"), None)
        if limit is None:
            continue
        schema = limit["schema"]
        schema = next(s for s in schema.get("anyOf", [schema]) if s.get("type") == "integer")
        assert schema["maximum"] <= 500, path
        capped.append(path)
        if "{" not in path:
            over = client.get(path, params={"limit": schema["maximum"] + 1}, headers=admin_headers)
            assert over.status_code in (403, 422), (path, over.text)
            if over.status_code == 422:
                assert over.json()["errors"][0]["loc"] == ["query", "limit"]
    assert len(capped) >= 10


def test_api4_redaction_spans_per_decision_are_capped(client: TestClient, engine: Engine) -> None:
    _, password = create_user(
        engine, username="rc", roles=[Role.reviewer], clearance=Level.CONFIDENTIAL
    )
    ref = make_cable(engine, assignee="rc")
    spans = [{"start": 0, "end": 1, "exemption": "1.4(b)"} for _ in range(201)]
    response = client.put(
        f"/api/v1/cables/{ref}/portions/1/decision",
        json={"action": "redact", "redactions": spans},
        headers={**auth_headers(client, "rc", password), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "redactions"]
    assert portion_row(engine, ref, 1).version == 1


@pytest.fixture
def tight(settings: Settings) -> Iterator[TestClient]:
    budget = settings.model_copy(
        update={
            "expensive_requests_per_window": 2,
            "expensive_window_seconds": 3600,
            "import_worker_enabled": False,
            "webhook_worker_enabled": False,
        }
    )
    with TestClient(create_app(budget)) as test_client:
        yield test_client


def test_api4_expensive_queries_have_a_budget_per_principal(
    tight: TestClient, engine: Engine
) -> None:
    first = make_principal_headers(tight, engine, Role.supervisor)
    second = make_principal_headers(tight, engine, Role.supervisor)
    search = {"q": "demarche"}
    assert [tight.get("/api/v1/cables", params=search, headers=first).status_code] * 2 == [200] * 2
    assert tight.get("/api/v1/cables", params=search, headers=first).status_code == 200
    refused = tight.get("/api/v1/cables", params=search, headers=first)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600
    assert refused.json()["type"] == "https://declass.dev/problems/too-many-requests"
    # Another principal, a plain listing, and another kind of query are not affected.
    assert tight.get("/api/v1/cables", params=search, headers=second).status_code == 200
    assert tight.get("/api/v1/cables", headers=first).status_code == 200
    assert tight.get("/api/v1/audit", headers=first).status_code == 200
    for path in ("/api/v1/audit/verify", "/api/v1/audit/verify"):
        tight.get(path, headers=first)
    assert tight.get("/api/v1/audit", headers=first).status_code == 429
    csv = {"format": "csv"}
    assert tight.get("/api/v1/schedule/due", params=csv, headers=first).status_code == 200
    assert tight.get("/api/v1/schedule/overdue", params=csv, headers=first).status_code == 200
    assert tight.get("/api/v1/schedule/due", params=csv, headers=first).status_code == 429
    assert tight.get("/api/v1/schedule/due", headers=first).status_code == 200  # JSON: cheap


def test_api4_an_import_holds_at_most_max_rows(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "three.ndjson"
    path.write_bytes(b"".join(b'{"text": "NOT A CABLE %d"}\n' % n for n in range(3)))
    with unit_of_work(engine) as session:
        job, _created = imports.create_import(
            session,
            actor=system_principal("tests"),
            import_id=imports.new_import_id(),
            fmt=ImportFormat.ndjson,
            spool_path=path,
            size_bytes=path.stat().st_size,
            body_sha256="0" * 64,
            idempotency_key=None,
            idempotency_ttl_seconds=86_400,
        )
    with unit_of_work(engine) as session:
        claimed = imports.claim_job(
            session, owner="o", lease_seconds=30, runner=ImportRunner.server
        )
    assert claimed is not None
    assert claimed.id == job.id
    options = RunnerOptions(
        batch_size=1, lease_seconds=30, max_line_bytes=1024, parse_workers=0, max_rows=2
    )
    finished = run_job(engine, job=claimed, owner="o", options=options)
    assert (finished.status, finished.rows_done) == (ImportStatus.failed, 2)
    assert finished.error == (
        "the file has more than 2 rows, the most one import may hold; the first 2 rows are stored"
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "group"),
    [
        ("GET", "/api/v1/cables", {"q": ["tokyo"]}, "search"),
        ("GET", "/api/v1/cables", {"q": ["  "]}, None),
        ("GET", "/api/v1/cables", {"origin": ["Tokyo"]}, None),
        ("GET", "/api/v1/cables/07TOKYO5624", {}, None),
        ("GET", "/api/v1/audit", {}, "audit"),
        ("GET", "/api/v1/audit/verify", {}, "audit"),
        ("GET", "/api/v1/cables/07TOKYO5624/audit", {}, "audit"),
        ("GET", "/api/v1/schedule/due", {"format": ["csv"]}, "schedule-export"),
        ("GET", "/api/v1/schedule/overdue", {"format": ["json"]}, None),
        ("GET", "/api/v1/schedule/calendar.ics", {"token": ["t"]}, "schedule-export"),
        ("GET", "/api/v1/cables/07TOKYO5624/release", {"preview": ["true"]}, "release"),
        ("POST", "/api/v1/cables", {"q": ["x"]}, None),
    ],
)
def test_api4_which_requests_draw_on_a_budget(
    method: str, path: str, query: dict[str, list[str]], group: str | None
) -> None:
    assert expensive_group(method, path, query) == group


def test_api4_the_budget_window_slides() -> None:
    now = [0.0]
    window = SlidingWindow(limit=2, window_seconds=10, clock=lambda: now[0])
    assert window.acquire("k") is None
    now[0] = 5.0
    assert [window.acquire("k"), window.acquire("k"), window.acquire("other")] == [None, 5, None]
    now[0] = 10.0  # the request made at 0 has left the window; the one made at 5 has not
    assert [window.acquire("k"), window.acquire("k")] == [None, 5]


# API5, API6 -----------------------------------------------------------------------------


def test_api5_bfla_no_mutating_route_is_open_to_every_role() -> None:
    open_writes = [
        (method, path)
        for (method, path), rule in RULES.items()
        if method not in {"GET", "HEAD"} and rule == ANY_ROLE
    ]
    assert open_writes == []


def test_api6_the_decider_cannot_approve_their_own_decision(
    client: TestClient, engine: Engine
) -> None:
    _, password = create_user(
        engine,
        username="both",
        roles=[Role.reviewer, Role.approver],
        clearance=Level.CONFIDENTIAL,
    )
    both = auth_headers(client, "both", password)
    ref = make_cable(engine, assignee="both")
    claimed = client.post(
        f"/api/v1/cables/{ref}/portions/1/claim", headers={**both, "If-Match": '"1"'}
    )
    assert claimed.status_code == 200, claimed.text
    decided = client.put(
        f"/api/v1/cables/{ref}/portions/1/decision",
        json={"action": "release"},
        headers={**both, "If-Match": f'"{claimed.json()["version"]}"'},
    )
    assert decided.status_code == 200, decided.text
    version = decided.json()["version"]
    approve = client.post(
        f"/api/v1/cables/{ref}/portions/1/approve",
        headers={**both, "If-Match": f'"{version}"'},
    )
    assert approve.status_code == 403
    assert approve.json()["detail"] == "the decider may not approve their own decision"
    assert portion_row(engine, ref, 1).version == version


# API7, API10 ----------------------------------------------------------------------------


def _due(url: str) -> Due:
    return Due(
        delivery_id=1,
        subscription_id=1,
        url=url,
        secrets=(new_secret(),),
        msg_id="msg_1",
        body='{"type":"cable.released"}',
    )


def _policy() -> DeliveryPolicy:
    return DeliveryPolicy(
        timeout_seconds=1.0,
        schedule=(1.0,),
        jitter=0.0,
        disable_after_seconds=60.0,
        lease_seconds=30.0,
        batch_size=1,
        allowed_hosts=(),
    )


def _public(_host: str, _port: int) -> list[str]:
    return ["93.184.216.34"]


def test_api7_ssrf_a_redirect_to_the_metadata_address_is_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = send(
            client, _due("https://records.example.org/hook"), policy=_policy(), resolve=_public
        )
    assert seen == ["https://records.example.org/hook"]
    assert (result.outcome.value, result.status_code, result.error) == (
        "http_error",
        302,
        "HTTP 302",
    )


def test_api10_a_webhook_receivers_answer_is_not_stored_or_reflected() -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            500,
            content=b"<script>alert(1)</script> internal: db=prod password=hunter2",
            headers={"X-Leak": "hunter2"},
        )

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = send(
            client, _due("https://records.example.org/hook"), policy=_policy(), resolve=_public
        )
    assert (result.status_code, result.error) == (500, "HTTP 500")


# API8, API9 -----------------------------------------------------------------------------


def test_api8_an_unexpected_error_has_no_stack_trace(tmp_path: Path) -> None:
    application = _offline(tmp_path / "never-opened.db")

    def explode() -> None:
        raise RuntimeError("internal detail: SELECT * FROM app_user")

    application.add_api_route("/healthz/explode", explode)
    with TestClient(application, raise_server_exceptions=False) as client:
        response = client.get("/healthz/explode")
    assert response.status_code == 500
    assert response.json() == {
        "type": "https://declass.dev/problems/internal",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred; it has been logged",
    }
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_api8_headers_nosniff_no_store_and_trace_is_405(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    ref = make_cable(engine)
    portion = client.get(f"/api/v1/cables/{ref}/portions/1", headers=admin_headers)
    assert portion.status_code == 200
    assert portion.headers["cache-control"] == "no-store"
    assert portion.headers["x-content-type-options"] == "nosniff"
    for response in (
        client.get(f"/api/v1/cables/{ref}", headers=admin_headers),
        client.get("/api/v1/cables/99NOWHERE1", headers=admin_headers),
        client.get("/api/v1/cables"),  # 401
    ):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/healthz").headers["x-content-type-options"] == "nosniff"
    for path in (f"/api/v1/cables/{ref}", "/api/v1/cables", "/healthz"):
        trace = client.request("TRACE", path, headers=admin_headers)
        assert trace.status_code == 405, path
        assert trace.headers["content-type"] == "application/problem+json"


BAD_INPUTS: list[tuple[str, str, dict[str, Any]]] = [
    # NUL: PostgreSQL cannot store it in text, and a query holding one used to be a 500.
    ("GET", "/api/v1/cables?q=a%00b", {}),
    ("GET", "/api/v1/cables/07A%00B", {}),
    ("GET", "/api/v1/users/a%00b", {}),
    ("GET", "/api/v1/audit?actor=a%00b", {}),
    ("POST", "/api/v1/service-accounts", {"json": {"name": "a\x00b", "clearance": "SECRET"}}),
    ("PATCH", "/api/v1/users/nobody", {"json": {"queues": ["q\x00"]}}),
    # Integers past the INTEGER columns, and below them.
    ("GET", "/api/v1/webhooks/99999999999999999999999", {}),
    ("GET", "/api/v1/webhooks/-6815387906", {}),
    ("GET", "/api/v1/routing/rules/2147483648", {}),
    ("GET", "/api/v1/audit?after_seq=2147483648", {}),
]


def test_api8_bad_input_is_a_422_problem_never_a_500(
    client: TestClient, engine: Engine, admin_headers: dict[str, str]
) -> None:
    supervisor = make_principal_headers(client, engine, Role.supervisor)
    for method, url, kwargs in BAD_INPUTS:
        headers = supervisor if "/routing/" in url or "/audit" in url else admin_headers
        response = client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 422, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    login = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "a\x00b", "password": "x"},
    )
    assert login.status_code == 422
    # A JSON string that only spells a backslash and u0000 is ordinary text.
    literal = client.post(
        "/api/v1/service-accounts",
        content=b'{"name": "a\\\\u0000b", "clearance": "SECRET"}',
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert literal.status_code == 201, literal.text
    assert literal.json()["name"] == "a\\u0000b"


NOT_IN_SCHEMA = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
}


def test_api9_every_route_is_in_the_committed_openapi_and_nothing_else(
    offline_app: FastAPI,
) -> None:
    documented = {
        (method.upper(), path) for path, item in _snapshot()["paths"].items() for method in item
    }
    assert app_routes(offline_app) - NOT_IN_SCHEMA == documented
    assert all(
        path.startswith("/api/v1/") or path in {"/healthz", "/readyz", "/metrics"}
        for _method, path in documented
    )
