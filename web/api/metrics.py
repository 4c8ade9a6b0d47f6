"""/metrics: Prometheus text format, for a token with `metrics.read` or from the
networks in DAM_METRICS_ALLOW (a Prometheus server that sends no token)."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST

from dam.auth import check_permission
from dam.settings import Settings
from web.deps import SessionDep, SettingsDep, get_current_user
from web.metrics import Metrics, MetricsResponse
from web.openapi import errors
from web.proxies import client_address

router = APIRouter(tags=["health"])


def allowed_by_address(request: Request, settings: Settings) -> bool:
    """Whether the (resolved) client address is in DAM_METRICS_ALLOW."""
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_networks)


@router.get(
    "/metrics",
    response_class=MetricsResponse,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."},
        **errors(401, 403),
    },
)
def metrics(request: Request, session: SessionDep, settings: SettingsDep) -> MetricsResponse:
    if not allowed_by_address(request, settings):
        check_permission(get_current_user(request, session), "metrics.read")
    registry: Metrics = request.app.state.metrics
    return MetricsResponse(registry.render())
