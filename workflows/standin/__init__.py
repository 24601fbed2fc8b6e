"""Stand-in DSM services: the four services of docs/dsm-services.md over real HTTP, backed by SQLite.

`python -m workflows.standin` starts them (one stdlib HTTP server per service, each on its own port, all
sharing one SQLite file); `workflows.standin.client.StandIn` starts and drives them from tests. Stdlib
only on the server side, so the whole stack starts in a fraction of a second.

Modules: `server` (HTTP plumbing, request log, fault injection, admin routes), `validation`
(pydantic-like body checks answering FastAPI's 422 shape), `db` + `seed` (the shared database),
one module per service (`daily_scrum`, `sprint`, `project`, `chronicle`), `stack` (wires them
together), `client` (the test-side API).
"""

from __future__ import annotations

from steps.contract import SERVICE_URL_ENV

# short service name (used by the admin API and the client) -> env variable holding its base URL.
# Derived from the step contract so the stand-in prints exactly the names the steps read.
SERVICES: dict[str, str] = {name.removesuffix("-service"): env for name, env in SERVICE_URL_ENV.items()}
ADMIN_PREFIX = "/_stand-in/"
