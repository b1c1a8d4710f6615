"""The dashboard's web app: server-rendered pages (Starlette + Jinja2), a little vanilla JS.

Listens on 127.0.0.1 only. The one state-changing endpoint (`POST /api/review/<id>`) needs the
per-process token embedded in the pages, JSON, and a local Host header, so another web page open in
the same browser cannot make the reviewer key sign anything.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import structlog
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from oracle.compare import EMPTY, build_comparison, seal, summary_lines, table_rows
from oracle.config import Settings
from oracle.dashboard.crossborder import CrossBorderView
from oracle.dashboard.data import Dashboard
from oracle.dashboard.filters import FILTERS
from oracle.dashboard.listen import port_in_use
from oracle.dashboard.members import MembersView
from oracle.errors import ChainError, DataError, StoreError, VerdictError
from oracle.report import build_report, report_period
from oracle.shadow import ShadowLog
from oracle.suggest import page_data as suggest_page

HERE = Path(__file__).parent
PAGES = (
    ("/", "live", "Live payments"),
    ("/review", "review", "Review queue"),
    ("/governance", "governance", "Governance"),
    ("/model", "model", "Model card"),
    ("/health", "health", "Oracle health"),
    ("/report", "report", "Compliance report"),
    ("/compare", "compare", "Challenger"),
    ("/members", "members", "Members"),
    ("/crossborder", "crossborder", "Cross-border"),
    ("/suggest", "suggest", "Suggestions"),
)
log = structlog.get_logger("verdict.dashboard")


def create_app(settings: Settings, dashboard: Dashboard | None = None) -> Starlette:
    board = dashboard or Dashboard(settings)
    token = secrets.token_urlsafe(24)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    env.filters.update(FILTERS)

    def render(request: Request, page: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(f"{page}.html").render(
            pages=PAGES,
            page=page,
            token=token,
            head=board.header(),
            request=request,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def page(name: str, loader: Any) -> Any:
        def endpoint(request: Request) -> HTMLResponse:
            try:
                return render(request, name, data=loader(request))
            except (ChainError, StoreError) as exc:
                return render(request, name, status=503, data=None, error=str(exc))

        return endpoint

    async def review(request: Request) -> JSONResponse:
        if request.headers.get("x-verdict-token") != token:
            return JSONResponse(
                {"error": "missing or wrong dashboard token; reload the page"}, status_code=403
            )
        try:
            pid = int(request.path_params["pid"])
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("approve"), bool):
            return JSONResponse(
                {"error": 'send JSON {"approve": true|false} to /api/review/<id>'}, status_code=400
            )
        try:
            # web3 blocks: sign, send and wait for the receipt in a worker thread
            result = await run_in_threadpool(board.review, pid, body["approve"])
        except VerdictError as exc:
            log.warning("review refused", payment=pid, error=str(exc))
            return JSONResponse({"error": str(exc)}, status_code=409)
        log.info("reviewed", payment=pid, approve=result.approve, tx=result.tx_hash, status=result.status)
        return JSONResponse(
            {
                "payment_id": result.payment_id,
                "approve": result.approve,
                "tx_hash": result.tx_hash,
                "status": result.status,
                "block": result.block,
                "reviewer": result.reviewer,
            }
        )

    def period_report(start: str | None, end: str | None) -> Any:
        # The CLI's period rule (`report_period`): empty dates end at the chain's time, not the
        # wall clock's, which a local chain moved forward (the demo) runs behind.
        period = report_period(start, end, chain=board.chain, store=board.store)
        return build_report(
            settings, period.start, period.end, store=board.store, chain=board.chain, clock=period.clock
        )

    def report_download(request: Request) -> Response:
        fmt = request.query_params.get("format", "csv")
        try:
            if fmt not in ("csv", "json"):
                raise DataError(f"format {fmt!r}: use csv or json")
            report = period_report(
                request.query_params.get("from") or None, request.query_params.get("to") or None
            )
        except DataError as exc:
            return Response(f"error: {exc}\n", status_code=400, media_type="text/plain")
        except VerdictError as exc:
            return Response(f"error: {exc}\n", status_code=503, media_type="text/plain")
        name = f"suspicious-activity-{report.period_from[:10]}-to-{report.period_to[:10]}.{fmt}"
        return Response(
            report.render(fmt),
            media_type="text/csv" if fmt == "csv" else "application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def report_page(request: Request) -> dict[str, Any]:
        q = request.query_params
        preview = None
        if q.get("from") or q.get("to") or q.get("preview"):
            try:
                preview = period_report(q.get("from") or None, q.get("to") or None)
            except DataError as exc:
                return {"error_input": str(exc), "from": q.get("from", ""), "to": q.get("to", "")}
        return {
            "preview": preview,
            "from": q.get("from", ""),
            "to": q.get("to", ""),
            "rule": build_rule_text(settings),
        }

    shadow_log = ShadowLog(settings.store_url, create=False)

    def comparison_of(request: Request) -> dict[str, Any]:
        q = request.query_params
        start, end, challenger = (q.get(name) or None for name in ("from", "to", "challenger"))
        period = report_period(start, end, chain=board.chain, store=board.store)
        return seal(build_comparison(board.store, shadow_log, board.chain, period, challenger))

    def compare_page(request: Request) -> dict[str, Any]:
        q = request.query_params
        context: dict[str, Any] = {"from": q.get("from", ""), "to": q.get("to", ""), "comparison": None}
        try:
            comparison = comparison_of(request)
        except DataError as exc:
            return {**context, "error_input": str(exc)}
        if comparison["payments_compared"]:
            context.update(
                comparison=comparison, rows=table_rows(comparison), lines=summary_lines(comparison)
            )
        else:
            context["empty"] = EMPTY.format(where=" for payments in this period")
        return context

    def compare_download(request: Request) -> Response:
        try:
            comparison = comparison_of(request)
        except DataError as exc:
            return Response(f"error: {exc}\n", status_code=400, media_type="text/plain")
        except VerdictError as exc:
            return Response(f"error: {exc}\n", status_code=503, media_type="text/plain")
        return Response(
            json.dumps(comparison, indent=2, sort_keys=True) + "\n",
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="comparison.json"'},
        )

    def pr_curve(request: Request) -> Response:
        path = Path(settings.model_dir) / "pr_curve.png"
        if not path.is_file():
            return Response("no PR curve in the model directory\n", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="image/png")

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    members = MembersView(board.chain, board.deployment, board.abis, settings.relay_url)
    cross_border = CrossBorderView(board.chain, board.deployment, board.abis)

    async def member_power(request: Request) -> JSONResponse:
        try:
            account = request.query_params.get("account", "")
            return JSONResponse(await run_in_threadpool(members.power, account))
        except DataError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except VerdictError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)

    routes = [
        Route("/", page("live", lambda r: board.live_payments())),
        Route("/review", page("review", lambda r: board.review_queue())),
        Route("/governance", page("governance", lambda r: board.governance())),
        Route("/model", page("model", lambda r: board.model_card())),
        Route("/health", page("health", lambda r: board.health())),
        Route("/report", page("report", report_page)),
        Route("/report/suspicious", report_download),
        Route("/compare", page("compare", compare_page)),
        Route("/compare.json", compare_download),
        Route("/model/pr_curve.png", pr_curve),
        Route("/api/review/{pid}", review, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/members", page("members", lambda r: members.page())),
        Route("/api/members/power", member_power),
        Route("/crossborder", page("crossborder", lambda r: cross_border.page())),
        Route("/suggest", page("suggest", lambda r: suggest_page(board.store, r.query_params))),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        board.close()
        shadow_log.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.dashboard = board
    return app


def build_rule_text(settings: Settings) -> str:
    from oracle.structuring import StructuringRule

    return StructuringRule.from_settings(settings).describe()


def serve(settings: Settings, port: int) -> None:
    """Runs the dashboard on 127.0.0.1:`port` until Ctrl-C."""
    import uvicorn

    app = create_app(settings)
    if busy := port_in_use(port):
        raise VerdictError(f"cannot listen on 127.0.0.1:{port}: {busy}")
    log.info(
        "dashboard ready",
        url=f"http://127.0.0.1:{port}/",
        reviewer=app.state.dashboard.reviewer.address if app.state.dashboard.reviewer else None,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
