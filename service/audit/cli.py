"""Command-line verification and checkpoints of the audit log (registered in service.cli).

`declass verify-audit [--json] [--checkpoint]`: exit 0 when the chain is intact, 1 with the
first bad seq when it is not, 2 when the configuration is unusable.
`declass audit checkpoint`: verify, then write a new signed checkpoint (only when intact).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from service.audit.checkpoint import CheckpointError
from service.audit.verify import VerifyResult, take_checkpoint, verify_log
from service.db import make_engine, unit_of_work
from service.settings import Settings, SettingsError, get_settings

app = typer.Typer(help="The audit log: verification and signed checkpoints.", no_args_is_help=True)
console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _report(result: VerifyResult, *, as_json: bool, checkpointed: bool = False) -> None:
    if as_json:
        body: dict[str, object] = {
            "valid": result.valid,
            "count": result.count,
            "head": result.head,
        }
        if not result.valid:
            body["first_bad_seq"] = result.first_bad_seq
            body["reason"] = result.reason
        if result.checkpoint_count is not None:
            body["checkpoint_count"] = result.checkpoint_count
        typer.echo(json.dumps(body))
        return
    if result.valid:
        typer.echo(f"audit log intact: {result.count} events, head {result.head}")
        if checkpointed:
            typer.echo(f"checkpoint written at {result.count} events")
        elif result.checkpoint_count is not None:
            typer.echo(f"matches the signed checkpoint of {result.checkpoint_count} events")
    else:
        where = f"first bad seq {result.first_bad_seq}" if result.first_bad_seq else "checkpoint"
        typer.echo(f"audit log BROKEN: {where}: {result.reason}")


def _run(*, checkpoint: bool, as_json: bool) -> None:
    settings = _settings()
    engine = make_engine(settings)
    written = False
    try:
        with unit_of_work(engine, write=False) as session:
            if checkpoint:
                result, written = take_checkpoint(session, settings=settings)
            else:
                result = verify_log(session, settings=settings)
    except CheckpointError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    _report(result, as_json=as_json, checkpointed=written)
    if not result.valid:
        raise typer.Exit(1)


def verify_audit(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
    checkpoint: Annotated[
        bool, typer.Option("--checkpoint", help="When intact, also write a signed checkpoint")
    ] = False,
) -> None:
    """Verify the audit hash chain (and the signed checkpoint, if configured).

    Exit 0 when intact, 1 naming the first bad seq when not, 2 on a configuration error.
    """
    _run(checkpoint=checkpoint, as_json=as_json)


@app.command("checkpoint")
def checkpoint_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Verify the log and write a signed checkpoint (count, head hash, time) to
    DECLASS_AUDIT_CHECKPOINT_FILE; a broken log is not checkpointed (exit 1)."""
    _run(checkpoint=True, as_json=as_json)


@app.command("verify")
def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout")] = False,
) -> None:
    """Same as `declass verify-audit`."""
    _run(checkpoint=False, as_json=as_json)
