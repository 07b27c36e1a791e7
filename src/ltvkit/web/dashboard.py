"""The dashboard routes: every page ``/x`` (Jinja2, server-rendered) and its twin ``/x.json``; the forms that change
something (switch a scenario, edit it, retry a message, answer a LINE message, log in) carry a CSRF token."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
import tempfile
from collections import OrderedDict
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..actions import load_scenario, load_scenarios
from ..actions.dashboard import retry_message, set_scenario_enabled
from ..actions.plan import preview
from ..actions.webhook import reply_inbound
from ..exceptions import InputError, LtvkitError, MissingDataError, ScenarioError, StoreError
from ..i18n import LANGS, fmt, label, t
from ..reports._json import script_json
from . import _data
from .errors import error_response

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "install_dashboard", "session_value"]

SESSION_COOKIE = "ltv_session"
CSRF_COOKIE = "ltv_csrf"
NAV = ("overview", "cohorts", "segments", "points", "predictions", "recommendations", "scenarios", "outbox", "inbox",
       "results")
MAX_FORM_BYTES = 200_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_MIDNIGHT = re.compile(r"^\d{4}-\d{2}-\d{2}T00:00:00$")


def session_value(token: str) -> str:
    """The session cookie's value for a serve token (a keyed hash: the cookie never holds the token itself)."""
    return hmac.new(token.encode(), b"ltv-serve-session", hashlib.sha256).hexdigest()


def _status_of(exc: LtvkitError) -> int:
    if isinstance(exc, (InputError, ScenarioError)):
        return 400
    if isinstance(exc, MissingDataError):
        return 404
    if isinstance(exc, StoreError):
        return 503
    return 500


@jinja2.pass_context
def _fmt(ctx: Any, value: Any, kind: str = "float") -> str:
    if isinstance(value, str) and _MIDNIGHT.match(value):  # a date that went through JSON as a timestamp
        return value[:10]
    return fmt(value, kind, ctx.get("lang"))


@jinja2.pass_context
def _label(ctx: Any, value: Any) -> str:
    return label(str(value), ctx.get("lang"))


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("ltvkit.web", "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["label"] = _label
    return env


def install_dashboard(app: FastAPI, *, snapshot: Any, store: Any, settings: Any, line: Any, token: str | None) -> None:
    env = _env()
    csrf_secret = store.secret("csrf")
    static = {name: resources.files("ltvkit.reports").joinpath("static", name).read_bytes()
              for name in ("report.css", "report.js")}
    static["web.css"] = resources.files("ltvkit.web").joinpath("static", "web.css").read_bytes()

    def lang_of(request: Request) -> str:
        lang = request.query_params.get("lang") or settings.lang
        if lang not in LANGS:
            raise InputError(key="err.unknown_lang", value=lang)
        return lang

    def csrf_for(request: Request) -> str:
        seed = request.cookies.get(CSRF_COOKIE) or request.state.new_csrf
        return hmac.new(csrf_secret, seed.encode(), hashlib.sha256).hexdigest()

    async def form_of(request: Request) -> dict[str, str]:
        body = b""
        async for chunk in request.stream():  # read no more than a form can hold
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise _Refused(413, t("err.web_form_too_large", settings.lang))
        data: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            try:
                data = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50))
            except (UnicodeDecodeError, ValueError):
                raise _Refused(400, t("err.web_form_type", settings.lang)) from None
        seed = request.cookies.get(CSRF_COOKIE)
        expected = hmac.new(csrf_secret, seed.encode(), hashlib.sha256).hexdigest() if seed else ""
        if not seed or not hmac.compare_digest(data.get("csrf", ""), expected):
            raise _Refused(403, t("err.web_csrf", settings.lang))
        return data

    cache: OrderedDict[Any, Any] = OrderedDict()

    def query(request: Request, lang: str, **extra: Any) -> _data.Query:
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        return _data.Query(lang, params, snapshot, store, settings, extra, cache)

    def url(request: Request, path: str, **params: Any) -> str:
        keep = {"lang": request.query_params.get("lang")} if request.query_params.get("lang") else {}
        keep.update({k: v for k, v in params.items() if v not in (None, "")})
        return path + ("?" + urlencode(keep) if keep else "")

    def render(request: Request, template: str, key: str, data: dict[str, Any], lang: str, status: int = 200,
               **more: Any) -> HTMLResponse:
        charts = [c for s in data.get("sections", []) for c in s.get("charts", [])] + list(data.get("charts", []))
        chart_ids = {id(c): f"c{i}" for i, c in enumerate(charts)}
        here = quote(request.url.path, safe="/")
        switch = {code: here + "?" + urlencode({**dict(request.query_params), "lang": code}) for code in LANGS}
        nav = [{"key": k, "title": t(f"web.page.{k}", lang), "href": url(request, "/" + k)} for k in NAV]
        body = env.get_template(template).render(
            lang=lang, page=data, key=key, nav=nav, switch=switch, t=lambda k, **p: t(k, lang, **p),
            chart_id=lambda c: chart_ids[id(c)], url=lambda path, **p: url(request, path, **p),
            charts_json=script_json({"charts": [{"id": chart_ids[id(c)], "figure": c["figure"]} for c in charts]}),
            has_charts=bool(charts), csrf=csrf_for(request), json_href=url(request, here + ".json", **{
                k: v for k, v in request.query_params.items() if k != "lang"}),
            **more)
        return HTMLResponse(body, status_code=status)

    def error_page(request: Request, status: int, message: str, lang: str) -> HTMLResponse:
        return render(request, "error.html", "error", {"title": t("web.error.title", lang, status=status),
                                                        "error": message, "status": status}, lang, status)

    def guarded(request: Request, as_json: bool, work: Any) -> Response:
        try:
            lang = lang_of(request)
        except LtvkitError as exc:
            return error_response(400, str(exc))
        try:
            return work(lang)
        except _Refused as exc:
            return error_response(exc.status, exc.message) if as_json else error_page(request, exc.status, exc.message, lang)
        except LtvkitError as exc:
            status = _status_of(exc)
            return error_response(status, str(exc)) if as_json else error_page(request, status, str(exc), lang)

    def page_routes(name: str, template: str) -> None:
        def html(request: Request) -> Response:
            return guarded(request, False, lambda lang: render(
                request, template, name, _data.page_data(name, query(request, lang, can_reply=line is not None)), lang))

        def as_json(request: Request) -> Response:
            return guarded(request, True, lambda lang: JSONResponse(
                {"ok": True, "page": name, "lang": lang,
                 **_data.page_data(name, query(request, lang, can_reply=line is not None))}))

        app.add_api_route(f"/{name}.json", as_json, methods=["GET"], include_in_schema=False)
        app.add_api_route(f"/{name}", html, methods=["GET"], include_in_schema=False)

    for name in NAV:
        template = {"scenarios": "scenarios.html", "outbox": "outbox.html", "inbox": "inbox.html",
                    "overview": "overview.html", "cohorts": "cohorts.html", "segments": "segments.html"}
        page_routes(name, template.get(name, "page.html"))

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        return RedirectResponse(url(request, "/overview"), status_code=303)

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        if name == "plotly.min.js":
            from ..reports.render_html import plotly_js

            return Response(plotly_js(), media_type="text/javascript",
                            headers={"cache-control": "public, max-age=86400"})
        if name not in static:
            return error_response(404, "Not found.")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        return Response(static[name], media_type=kind, headers={"cache-control": "public, max-age=3600"})

    @app.get("/segments.csv", include_in_schema=False)
    def segments_csv(request: Request) -> Response:
        def work(lang: str) -> Response:
            filename, frame = _data.segment_csv(query(request, lang))
            for col in frame.columns:  # a text cell a spreadsheet would run as a formula is kept as text
                if frame[col].dtype == object or str(frame[col].dtype).startswith("str"):
                    frame[col] = frame[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in _FORMULA else v)
            buf = io.StringIO()
            frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
            text = buf.getvalue()
            return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                            headers={"content-disposition": f'attachment; filename="{filename}"'})

        return guarded(request, True, work)

    # -- the customer page ---------------------------------------------------------------------------------------
    @app.get("/customers/{key}.json", include_in_schema=False)
    def customer_json(request: Request, key: str) -> Response:
        return guarded(request, True, lambda lang: JSONResponse(
            {"ok": True, "page": "customer", "lang": lang,
             **_data.page_data("customer", query(request, lang, customer_key=key))}))

    @app.get("/customers/{key}", include_in_schema=False)
    def customer_html(request: Request, key: str) -> Response:
        return guarded(request, False, lambda lang: render(
            request, "customer.html", "customer", _data.page_data("customer", query(request, lang, customer_key=key)),
            lang))

    @app.get("/customers", include_in_schema=False)
    def customer_search(request: Request) -> Response:
        key = request.query_params.get("key", "").strip()
        if not key:
            return RedirectResponse(url(request, "/overview"), status_code=303)
        return RedirectResponse(url(request, "/customers/" + quote(key, safe="")), status_code=303)

    # -- scenarios -----------------------------------------------------------------------------------------------
    def scenario_text(name: str) -> tuple[str, str]:
        found = load_scenarios(settings.crm_scenarios)
        if name not in found:
            raise MissingDataError(key="err.web_no_scenario", name=name)
        path = found[name].path
        if path.startswith("library:"):
            text = resources.files("ltvkit.actions").joinpath("library", path[len("library:"):]).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return path, text

    def scenario_data(name: str, lang: str, text: str | None = None, **more: Any) -> dict[str, Any]:
        path, stored = scenario_text(name)
        from ..actions.dashboard import disabled_scenarios

        return {"title": t("web.page.scenario", lang, name=name), "name": name, "file": path,
                "enabled": name not in disabled_scenarios(store), "yaml": stored if text is None else text,
                "saved_yaml": stored, "can_save": settings.crm_scenarios is not None,
                "directory": str(settings.crm_scenarios) if settings.crm_scenarios else None,
                "error": None, "preview": None, "saved": False, **more}

    @app.get("/scenarios/{name}.json", include_in_schema=False)
    def scenario_json(request: Request, name: str) -> Response:
        return guarded(request, True, lambda lang: JSONResponse(
            {"ok": True, "page": "scenario", "lang": lang, **scenario_data(name, lang)}))

    @app.get("/scenarios/{name}", include_in_schema=False)
    def scenario_page(request: Request, name: str) -> Response:
        return guarded(request, False, lambda lang: render(
            request, "scenario.html", "scenario",
            scenario_data(name, lang, saved=request.query_params.get("saved") == "1"), lang))

    def check_scenario(name: str, text: str, label: str) -> Any:
        scenario = load_scenario(label, text=text, label=label)
        if scenario.name != name:
            raise InputError(key="err.web_scenario_rename", name=name, new=scenario.name)
        return scenario

    def run_preview(scenario: Any, lang: str) -> dict[str, Any]:
        if snapshot is None or not snapshot.path.exists():
            return {"error": t("err.web_no_workspace", lang)}
        try:
            with snapshot.read() as ws:
                return preview(ws, store, scenario, lang=lang, settings=settings)
        except LtvkitError as exc:
            return {"error": str(exc)}

    @app.post("/scenarios/{name}", include_in_schema=False)
    async def scenario_post(request: Request, name: str) -> Response:
        try:
            form = await form_of(request)
        except _Refused as exc:
            return error_response(exc.status, exc.message)
        text = form.get("yaml", "").replace("\r\n", "\n")
        action = form.get("action", "preview")

        def work(lang: str) -> Response:
            path, _ = scenario_text(name)
            target = Path(path) if not path.startswith("library:") else (
                Path(settings.crm_scenarios) / f"{name}.yaml" if settings.crm_scenarios else None)
            label = str(target) if target is not None else path
            try:
                scenario = check_scenario(name, text, label)
            except LtvkitError as exc:
                return render(request, "scenario.html", "scenario",
                              scenario_data(name, lang, text, error=str(exc)), lang, 400)
            if action == "save":
                if target is None:
                    return render(request, "scenario.html", "scenario", scenario_data(
                        name, lang, text, error=t("err.web_no_scenario_dir", lang)), lang, 400)
                _write_atomic(target, text)
                return RedirectResponse(url(request, f"/scenarios/{name}", saved="1"), status_code=303)
            return render(request, "scenario.html", "scenario",
                          scenario_data(name, lang, text, preview=run_preview(scenario, lang)), lang)

        return guarded(request, False, work)

    @app.post("/scenarios/{name}/enabled", include_in_schema=False)
    async def scenario_switch(request: Request, name: str) -> Response:
        try:
            form = await form_of(request)
        except _Refused as exc:
            return error_response(exc.status, exc.message)

        def work(lang: str) -> Response:
            scenario_text(name)  # 404 for an unknown name
            set_scenario_enabled(store, name, form.get("enabled") == "1")
            return RedirectResponse(url(request, "/scenarios"), status_code=303)

        return guarded(request, False, work)

    # -- outbox and inbox ----------------------------------------------------------------------------------------
    @app.post("/outbox/{key}/retry", include_in_schema=False)
    async def outbox_retry(request: Request, key: str) -> Response:
        try:
            await form_of(request)
        except _Refused as exc:
            return error_response(exc.status, exc.message)

        def work(lang: str) -> Response:
            retry_message(store, key)
            return RedirectResponse(url(request, "/outbox", state="retry"), status_code=303)

        return guarded(request, False, work)

    @app.post("/inbox/{key}/reply", include_in_schema=False)
    async def inbox_reply(request: Request, key: str) -> Response:
        try:
            form = await form_of(request)
        except _Refused as exc:
            return error_response(exc.status, exc.message)

        def work(lang: str) -> Response:
            if line is None:
                raise InputError(key="err.web_no_line")
            d = reply_inbound(store, line, key, form.get("text", ""))
            if not d.ok:
                raise InputError(key="err.web_reply_failed", detail=str(d.answer or d.status_code or ""))
            return RedirectResponse(url(request, "/inbox", all="1"), status_code=303)

        return guarded(request, False, work)

    # -- login ---------------------------------------------------------------------------------------------------
    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return guarded(request, False, lambda lang: render(
            request, "login.html", "login", {"title": t("web.login.title", lang), "error": None,
                                             "next": _safe_next(request.query_params.get("next"))}, lang))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        try:
            form = await form_of(request)
        except _Refused as exc:
            return error_response(exc.status, exc.message)

        def work(lang: str) -> Response:
            given = form.get("token", "")
            if not token or not hmac.compare_digest(given.encode(), token.encode()):
                return render(request, "login.html", "login", {"title": t("web.login.title", lang),
                                                               "error": t("err.web_bad_token", lang),
                                                               "next": _safe_next(form.get("next"))}, lang, 401)
            out = RedirectResponse(_safe_next(form.get("next")), status_code=303)
            out.set_cookie(SESSION_COOKIE, session_value(token), httponly=True, secure=True, samesite="strict",
                           max_age=12 * 3600, path="/")
            return out

        return guarded(request, False, work)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _safe_next(value: str | None) -> str:
    """Only a path of this server (never ``//host`` or a URL) after logging in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/overview"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ltv-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_csrf_seed() -> str:
    return secrets.token_urlsafe(24)
