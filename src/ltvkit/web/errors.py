"""One JSON error shape for every error response: ``{"ok": false, "error": "...", "status": N}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..exceptions import InputError, LtvkitError

__all__ = ["error_response", "install_error_handlers"]


def error_response(status: int, error: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error": error, "status": status}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "The request is not valid.")

    @app.exception_handler(InputError)
    async def _input(_: Request, exc: InputError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(LtvkitError)
    async def _ltvkit(_: Request, exc: LtvkitError) -> JSONResponse:
        return error_response(500, str(exc))

    @app.exception_handler(Exception)
    async def _other(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "Internal error.")
