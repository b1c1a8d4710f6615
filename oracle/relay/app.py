"""`verdict relay`'s HTTP API on 127.0.0.1 (Starlette + uvicorn, as the dashboard).

    GET  /healthz                          {"ok": true}
    GET  /metrics                          Prometheus text (also on VERDICT_RELAY_METRICS_PORT)
    GET  /status                           {relay, relayer, governor, token, budget_left_wei, spent_wei,
                                            max_gas_price_wei, budget_spent, reason, items}
    GET  /typed-data/vote?proposal_id=&support=&voter=[&reason=]
                                           {"typed_data": {...}}  EIP-712 data for eth_signTypedData_v4
    GET  /typed-data/delegation?delegator=&delegatee=&expiry=
                                           {"typed_data": {...}}
    POST /votes        {proposal_id, support, voter, nonce, signature[, reason, params]}
    POST /delegations  {delegator, delegatee, nonce, expiry, signature}
                                           202 {"id", "kind", "signer", "status": "queued", ...}
                                           4xx/503 {"error": "<one reason>"}: nothing was sent
    GET  /items/{id}                       {"id", "kind", "signer", "status", "tx_hash", "error"}
                                           status: queued | submitted | cast | failed

Any origin may POST (CORS without credentials): a signed item authorises itself, and the members'
page is served by the dashboard on another port.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oracle.errors import DataError, VerdictError
from oracle.relay.service import Refusal, Relayer
from oracle.relay.signing import ballot_typed_data, delegation_typed_data, support_value

log = structlog.get_logger("verdict.relay")
READY_LINE = "relayer ready"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(relayer: Relayer, *, background: bool = True) -> Starlette:
    """The relayer's app; with `background` a thread submits batches while the app runs."""

    async def submit(request: Request, accept: Any) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "send a JSON object")
        try:
            item = await run_in_threadpool(accept, body)
        except Refusal as refusal:
            log.info("refused", reason=refusal.reason, status=refusal.status)
            return _error(refusal.status, refusal.reason)
        except VerdictError as exc:
            return _error(503, str(exc))
        return JSONResponse(item.to_json(), status_code=202)

    async def votes(request: Request) -> JSONResponse:
        return await submit(request, relayer.accept_vote)

    async def delegations(request: Request) -> JSONResponse:
        return await submit(request, relayer.accept_delegation)

    def item(request: Request) -> JSONResponse:
        try:
            found = relayer.item(int(request.path_params["item_id"]))
        except ValueError:
            found = None
        return JSONResponse(found.to_json()) if found else _error(404, "no such item")

    async def status(request: Request) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(relayer.status))

    async def typed_vote(request: Request) -> JSONResponse:
        q = request.query_params
        try:
            typed = await run_in_threadpool(
                lambda: ballot_typed_data(
                    relayer.dao,
                    proposal_id=int(q.get("proposal_id", "")),
                    support=support_value(q.get("support", "")),
                    voter=q.get("voter", ""),
                    reason=q.get("reason"),
                )
            )
        except (ValueError, DataError) as exc:
            return _error(400, f"give proposal_id, support (for/against/abstain) and voter: {exc}")
        return JSONResponse({"typed_data": typed})

    async def typed_delegation(request: Request) -> JSONResponse:
        q = request.query_params
        try:
            typed = await run_in_threadpool(
                lambda: delegation_typed_data(
                    relayer.dao,
                    delegator=q.get("delegator", ""),
                    delegatee=q.get("delegatee", ""),
                    expiry=int(q.get("expiry", "")),
                )
            )
        except ValueError as exc:
            return _error(400, f"give delegator, delegatee and expiry (a timestamp): {exc}")
        return JSONResponse({"typed_data": typed})

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    def metrics(request: Request) -> Response:
        return Response(generate_latest(relayer.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/status", status),
        Route("/typed-data/vote", typed_vote),
        Route("/typed-data/delegation", typed_delegation),
        Route("/votes", votes, methods=["POST"]),
        Route("/delegations", delegations, methods=["POST"]),
        Route("/items/{item_id}", item),
    ]
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
        Middleware(
            CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["Content-Type"]
        ),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        thread = None
        if background:
            thread = threading.Thread(target=relayer.run_batches, name="relay-batches", daemon=True)
            thread.start()
        yield
        relayer.stop()
        if thread is not None:
            thread.join(timeout=10)

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.relayer = relayer
    return app


def serve(relayer: Relayer, port: int) -> None:
    """Runs the relayer on 127.0.0.1:`port` until Ctrl-C."""
    import uvicorn

    from oracle.dashboard.listen import port_in_use

    if busy := port_in_use(port):
        raise VerdictError(f"cannot listen on 127.0.0.1:{port}: {busy}")
    metrics_port = relayer.settings.relay_metrics_port
    if metrics_port:
        from prometheus_client import start_http_server

        if busy := port_in_use(metrics_port):
            raise VerdictError(
                f"cannot serve metrics on 127.0.0.1:{metrics_port}: {busy}; "
                "set VERDICT_RELAY_METRICS_PORT to another port (or 0 for none)"
            )
        start_http_server(metrics_port, addr="127.0.0.1", registry=relayer.metrics.registry)
    log.info(
        READY_LINE,
        url=f"http://127.0.0.1:{port}/",
        relay=relayer.relay.address,
        relayer=relayer.account.address,
        metrics_port=metrics_port,
    )
    uvicorn.run(create_app(relayer), host="127.0.0.1", port=port, log_level="warning", access_log=False)
