"""`declass demo bootstrap`: demo accounts and the seed cable, for `make run`.

Creates, unless they already exist: an admin, a reviewer per clearance level, an approver,
a supervisor and an integration service account, each with a random password (or client
secret) that is printed once and appended to `./var/demo-credentials.txt` (mode 600); and
ingests the demo cable 07TOKYO5624 unless it is stored. Running it again changes nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy import Engine, select
from sqlmodel import col

from service.auth import service
from service.auth.models import Role, ServiceAccount
from service.auth.principal import system_principal
from service.cables.service import find_cable, ingest_cable
from service.db import make_engine, unit_of_work
from service.markings import Level
from service.settings import SettingsError, get_settings

SEED_CABLE = Path(__file__).with_name("07TOKYO5624.txt")
CREDENTIALS_FILE = Path("var/demo-credentials.txt")
INTEGRATION_NAME = "Demo records system"
DEMO_USERS: tuple[tuple[str, tuple[Role, ...], Level], ...] = (
    ("admin", (Role.admin,), Level.TOP_SECRET),
    ("reviewer-u", (Role.reviewer,), Level.UNCLASSIFIED),
    ("reviewer-c", (Role.reviewer,), Level.CONFIDENTIAL),
    ("reviewer-s", (Role.reviewer,), Level.SECRET),
    ("reviewer-ts", (Role.reviewer,), Level.TOP_SECRET),
    ("approver", (Role.approver,), Level.TOP_SECRET),
    ("supervisor", (Role.supervisor,), Level.TOP_SECRET),
)
# Every queue the default routing rules feed, so the demo cable lands in a reviewer's queue.
DEMO_QUEUES = ("general", "foreign-government", "intelligence-equities", "defense-wmd", "senior")


@dataclass
class DemoResult:
    """What one run created: (login, secret, description) per new account."""

    created: list[tuple[str, str, str]] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    cable_ingested: bool = False


def _write_credentials(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)  # also when the file already existed with looser bits
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in lines)


def bootstrap_demo(engine: Engine, *, credentials_file: Path = CREDENTIALS_FILE) -> DemoResult:
    """Create the missing demo accounts and the seed cable (one transaction)."""
    actor = system_principal("demo-bootstrap")
    result = DemoResult()
    with unit_of_work(engine) as session:
        for username, roles, clearance in DEMO_USERS:
            if service.find_user(session, username) is not None:
                result.existing.append(username)
                continue
            password = secrets.token_urlsafe(12)
            service.create_user(
                session,
                actor=actor,
                username=username,
                password=password,
                roles=roles,
                clearance=clearance,
                queues=DEMO_QUEUES if Role.reviewer in roles else (),
            )
            described = f"{'/'.join(r.value for r in roles)}, {clearance.value}"
            result.created.append((username, password, described))
        statement = select(ServiceAccount).where(col(ServiceAccount.name) == INTEGRATION_NAME)
        if session.execute(statement).first() is None:
            account, secret = service.create_service_account(
                session, actor=actor, name=INTEGRATION_NAME, clearance=Level.UNCLASSIFIED
            )
            result.created.append((account.client_id, secret, "integration (client credentials)"))
        else:
            result.existing.append(INTEGRATION_NAME)
        if find_cable(session, "07TOKYO5624") is None:
            ingest_cable(session, text=SEED_CABLE.read_bytes(), actor=actor)
            result.cable_ingested = True
    if result.created:
        _write_credentials(
            credentials_file,
            [f"{login}\t{secret}\t{what}" for login, secret, what in result.created],
        )
    return result


demo_app = typer.Typer(help="Demo data for `make run`.", no_args_is_help=True)


@demo_app.command("bootstrap")
def bootstrap_command(
    credentials_file: Path = typer.Option(CREDENTIALS_FILE, help="where new secrets are kept"),
) -> None:
    """Create the demo accounts and the seed cable unless they exist."""
    console = Console()
    try:
        engine = make_engine(get_settings())
    except SettingsError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    try:
        result = bootstrap_demo(engine, credentials_file=credentials_file)
    finally:
        engine.dispose()
    if result.created:
        console.print(f"Demo accounts (shown once; also in {credentials_file}, mode 600):")
        for login, secret, what in result.created:
            console.print(f"  {login:<22} {secret}   [dim]{what}[/dim]", highlight=False)
    if result.existing:
        console.print(f"Already there: {', '.join(result.existing)}")
    if result.cable_ingested:
        console.print("Ingested the demo cable 07TOKYO5624.")
