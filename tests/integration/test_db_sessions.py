"""Transactions: writers on SQLite queue on an in-process lock before SQLite's own, and the
lock is always given back (commit, rollback, exception); reads never take it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text

from service.db import WRITE_OPTION, _writer_lock, open_session, unit_of_work


@pytest.fixture
def sqlite_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    return engine


def _held(engine: Engine) -> bool:
    lock, _ = _writer_lock(engine)
    return lock.locked()


def test_the_lock_is_held_for_the_transaction_and_released_by_commit(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as session:
        assert _held(sqlite_engine)
        session.execute(text("SELECT 1"))
    assert not _held(sqlite_engine)


def test_an_exception_rolls_back_and_releases(sqlite_engine: Engine) -> None:
    with pytest.raises(RuntimeError), unit_of_work(sqlite_engine):
        raise RuntimeError("boom")
    assert not _held(sqlite_engine)


def test_closing_without_commit_releases(sqlite_engine: Engine) -> None:
    session = open_session(sqlite_engine, write=True)
    assert _held(sqlite_engine)
    session.close()
    assert not _held(sqlite_engine)


def test_readers_do_not_take_the_lock(sqlite_engine: Engine) -> None:
    with unit_of_work(sqlite_engine) as _writer, unit_of_work(sqlite_engine, write=False) as reader:
        assert reader.execute(text("SELECT 1")).scalar_one() == 1


def test_a_second_writer_waits_for_the_first(sqlite_engine: Engine) -> None:
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with unit_of_work(sqlite_engine):
            first_in.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with unit_of_work(sqlite_engine):
        order.append("second in")
    thread.join()
    assert order == ["first done", "second in"]


def test_a_lazy_writer_takes_the_lock_at_its_first_statement(sqlite_engine: Engine) -> None:
    session = open_session(sqlite_engine, write=True, lazy=True)
    try:
        assert not _held(sqlite_engine)
        session.execute(text("SELECT 1"))
        assert _held(sqlite_engine)
        session.commit()
        assert not _held(sqlite_engine)
    finally:
        session.close()
    assert not _held(sqlite_engine)


def test_every_transaction_of_a_writer_session_is_a_writer(sqlite_engine: Engine) -> None:
    session = open_session(sqlite_engine, write=True)
    try:
        session.commit()
        assert not _held(sqlite_engine)
        session.execute(text("SELECT 1"))
        assert _held(sqlite_engine)
        assert session.connection().get_execution_options()[WRITE_OPTION] is True
        session.rollback()
        assert not _held(sqlite_engine)
    finally:
        session.close()
