"""Exit 0 when the PostgreSQL server at the given URL answers, 1 otherwise (used by make)."""

from __future__ import annotations

import sys

import psycopg
from sqlalchemy.engine import make_url


def main(argv: list[str]) -> int:
    show = "--show" in argv
    url = make_url(next(arg for arg in argv if arg != "--show"))
    if show:
        print(url.render_as_string(hide_password=True))
        return 0
    try:
        psycopg.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password,
            dbname=url.database or "postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
