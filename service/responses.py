"""JSON responses a route renders itself, for the busiest routes.

A route that returns a Pydantic model has FastAPI validate it again against the route's
`response_model` before serializing it; a model the route just built from its own types is
valid already. `model_response` serializes it once (Pydantic's JSON, what FastAPI would
send) and carries the headers the route set on its `Response` parameter (an `ETag`).
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel

JSON = "application/json"


def model_response(model: BaseModel, headers_from: Response, status_code: int = 200) -> Response:
    """`model` as a JSON response, with the headers set on `headers_from`."""
    response = Response(model.model_dump_json(), status_code=status_code, media_type=JSON)
    for name, value in headers_from.headers.items():
        if name not in ("content-length", "content-type"):
            response.headers[name] = value
    return response
