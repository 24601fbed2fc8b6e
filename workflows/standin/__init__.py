"""Stand-in DSM services: the four services of docs/dsm-services.md over real HTTP, backed by SQLite
(docs/standin.md). `python -m workflows.standin` starts them; `workflows.standin.client.StandIn`
starts and drives them from tests."""

from __future__ import annotations

from steps.contract import SERVICE_URL_ENV

# short service name (used by the admin API and the client) -> env variable holding its base URL.
# Derived from the step contract so the stand-in prints exactly the names the steps read.
SERVICES: dict[str, str] = {name.removesuffix("-service"): env for name, env in SERVICE_URL_ENV.items()}
