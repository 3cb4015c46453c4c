"""The routes of every service, read from each app's ``url_map`` at collection time, so a route
added later is attacked without anyone listing it here."""
from __future__ import annotations

import re

import pytest

from .world import OWN_AGENCY, SERVICES, Route, route_params, token

ROUTES: list[Route] = [r for s in SERVICES for r in route_params(s)]
PUBLIC = [r for r in ROUTES if r.public]
PROTECTED = [r for r in ROUTES if not r.public]
WITH_BODY = [r for r in PROTECTED if r.method in ("POST", "PUT", "PATCH") and r.has_body]
NO_BODY_WRITES = [r for r in PROTECTED if r.method in ("POST", "PUT", "PATCH") and not r.has_body]
ICLOCK = [r for r in ROUTES if r.blueprint == "iclock"]

# what may answer without a token: health, the OpenAPI document and its UIs, metrics, static files,
# the dashboard's static files, and the device protocol (which needs a registered SN instead)
PUBLIC_ALLOWED = re.compile(r"^(/healthz|/readyz|/openapi\.json|/metrics|/docs.*|/swagger.*|/redoc.*|/rapidoc.*"
                            r"|/static/<path:filename>|/dashboard(/.*)?|/iclock/.*)$")

ROLE_PREFERENCE = ("admin", "atasan", "pegawai", "operator", "device")


def ids(routes):
    return [r.id for r in routes]


def params(routes):
    return pytest.mark.parametrize("route", routes, ids=ids(routes))


def allowed_token(route: Route) -> str:
    """A valid agency-A token of a role the route allows (the most privileged first)."""
    roles = route.roles or ROLE_PREFERENCE
    role = next(r for r in ROLE_PREFERENCE if r in roles)
    return token(role, nip=OWN_AGENCY[role])
