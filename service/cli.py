"""The `declass` command line: thin, one service call per command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from service import migrations
from service.audit import cli as audit_cli
from service.auth.cli import service_accounts_app, users_app
from service.auth.principal import system_principal
from service.cables.batch_ingest import DEFAULT_BATCH_SIZE, Outcome, ingest_files
from service.db import make_engine
from service.demo.bootstrap import demo_app
from service.integrations import cli as integrations_cli
from service.settings import Settings, SettingsError, get_settings

app = typer.Typer(
    help="Declass: declassification review of diplomatic cables.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(service_accounts_app, name="service-accounts")
app.add_typer(demo_app, name="demo")
app.command("verify-audit")(audit_cli.verify_audit)
app.command("import")(integrations_cli.import_file)
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database to the latest schema (or to REVISION)."""
    engine = make_engine(_settings())
    migrations.upgrade(engine, revision)
    console.print(f"database at {migrations.current_revision(engine)}")
    engine.dispose()


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (`base` removes every table)."""
    engine = make_engine(_settings())
    migrations.downgrade(engine, revision)
    console.print(f"database at {migrations.current_revision(engine)}")
    engine.dispose()


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate: Annotated[bool, typer.Option(help="Migrate an embedded SQLite database first")] = True,
) -> None:
    """Serve the API (migrating the embedded SQLite database if needed)."""
    import uvicorn

    from service.main import create_app

    settings = _settings()
    if migrate and settings.is_sqlite:
        engine = make_engine(settings)
        migrations.upgrade(engine)
        engine.dispose()
    uvicorn.run(
        create_app(settings), host=host, port=port, log_config=None, timeout_graceful_shutdown=20
    )


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    batch_size: Annotated[
        int, typer.Option(min=1, help="Files stored per transaction (routed together)")
    ] = DEFAULT_BATCH_SIZE,
) -> None:
    """Parse and store cable text files; exit 1 if any is rejected."""
    engine = make_engine(_settings())
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("ingesting", total=len(files))
        results = ingest_files(
            engine,
            files,
            actor=system_principal("cli"),
            batch_size=batch_size,
            advance=lambda done: progress.advance(task, done),
        )
    engine.dispose()
    stored = sum(r.outcome is Outcome.stored for r in results)
    unchanged = sum(r.outcome is Outcome.unchanged for r in results)
    rejected = [(r.name, r.reason or "") for r in results if r.outcome is Outcome.rejected]
    summary = Table(title="ingest")
    summary.add_column("stored", justify="right")
    summary.add_column("unchanged", justify="right")
    summary.add_column("rejected", justify="right")
    summary.add_row(str(stored), str(unchanged), str(len(rejected)))
    console.print(summary)
    for name, reason in rejected:
        console.print(f"[red]rejected[/red] {name}: {reason}")
    if rejected:
        raise typer.Exit(1)
