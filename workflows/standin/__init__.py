"""Stand-in DSM services: the four of docs/dsm-services.md over real HTTP on SQLite (docs/standin.md),
started by `python -m workflows.standin`, from tests by `workflows.standin.client.StandIn`."""

from __future__ import annotations

from steps.contract import SERVICE_URL_ENV

# short service name (of the admin API and the client) -> the env variable of its base URL, from the
# step contract so that the stand-in prints exactly the names the steps read.
SERVICES: dict[str, str] = {name.removesuffix("-service"): env for name, env in SERVICE_URL_ENV.items()}
