"""`declass users ...` and `declass service-accounts ...`: thin commands, one service call in
one unit of work each. Passwords come from standard input (not echoed on a terminal), never
from the command line, where `ps` and shell history would keep them."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import Engine

from service.auth import service
from service.auth.models import Role
from service.auth.principal import system_principal
from service.auth.schemas import ServiceAccountCreate, UserCreate
from service.db import make_engine, unit_of_work
from service.errors import DomainError
from service.markings import Level
from service.settings import SettingsError, get_settings

users_app = typer.Typer(help="People: create users (admins manage the rest over the API).")
service_accounts_app = typer.Typer(help="Records systems' accounts (client credentials).")
err = Console(stderr=True)


def engine_or_exit() -> Engine:
    try:
        return make_engine(get_settings())
    except SettingsError as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            err.print("[red]the passwords differ[/red]")
            raise typer.Exit(2)
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _invalid(error: ValidationError) -> typer.Exit:
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        err.print(f"[red]{where}: {problem['msg']}[/red]")  # never the input itself
    return typer.Exit(2)


@users_app.command("create")
def create_user(
    username: str,
    role: Annotated[list[Role], typer.Option("--role", help="repeat for several roles")],
    clearance: Annotated[Level, typer.Option("--clearance")],
    queue: Annotated[list[str] | None, typer.Option("--queue", help="repeatable")] = None,
) -> None:
    """Create USERNAME with the password read from standard input."""
    try:
        body = UserCreate(
            username=username,
            password=read_password(),
            roles=role,
            clearance=clearance,
            queues=queue or [],
        )
    except ValidationError as error:
        raise _invalid(error) from None
    engine = engine_or_exit()
    try:
        with unit_of_work(engine) as session:
            service.create_user(
                session,
                actor=system_principal("cli"),
                username=body.username,
                password=body.password,
                roles=body.roles,
                clearance=body.clearance,
                queues=body.queues,
            )
    except DomainError as error:
        err.print(f"[red]{error.detail}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    roles = ", ".join(r.value for r in body.roles)
    err.print(f"created user {body.username} ({roles}; {body.clearance.value})")


@service_accounts_app.command("create")
def create_service_account(
    name: str,
    clearance: Annotated[Level, typer.Option("--clearance")] = Level.UNCLASSIFIED,
) -> None:
    """Create a records-system account; prints its client id and secret (shown only now)."""
    try:
        body = ServiceAccountCreate(name=name, clearance=clearance)
    except ValidationError as error:
        raise _invalid(error) from None
    engine = engine_or_exit()
    try:
        with unit_of_work(engine) as session:
            account, secret = service.create_service_account(
                session, actor=system_principal("cli"), name=body.name, clearance=body.clearance
            )
    finally:
        engine.dispose()
    err.print("Store the secret now: it cannot be shown again.")
    typer.echo(f"client_id={account.client_id}")
    typer.echo(f"client_secret={secret}")
