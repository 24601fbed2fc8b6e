"""The one HTTP helper of the steps: timeouts, bounded retries and errors that say what happened.

    client = Service("sprint-service", base_url)
    tasks = client.get_json(contract.TASKS_PATH, sprint_id=sprint_id)       # values are quoted
    answer = client.post_json(contract.SIMULATION_PATH, sprint_id=sprint_id)  # never retried once sent

Rules (why they matter for a workflow step):
- Every call has a (connect, read) timeout: defaults 3.05 s and 30 s, overridden by the environment
  variables HTTP_CONNECT_TIMEOUT and HTTP_READ_TIMEOUT (seconds).
- GETs are retried by urllib3 on connection errors and on 502/503/504, at most HTTP_RETRIES times
  in all (default 3) with exponential backoff (HTTP_BACKOFF_FACTOR, default 0.5 s: waits 0, 1, 2 s).
  A `Retry-After` header is ignored: a service asking for minutes must not hold the step past its
  deadline. `worst_case_seconds()` is the longest one call can take under these rules.
- A POST is retried only when the connection could not be opened (it never reached the service).
  Once it may have been sent it is never retried: the daily-scrum simulation and the chronicle
  are not idempotent.
- Failures are exceptions carrying the exit code of the step:
  `NotSent` (75: connection refused, DNS failure, connect timeout: safe to retry),
  `ServiceError` (3: bad status, timeout after sending, malformed JSON, wrong shape),
  `NotFound` (4: the service answered 404; callers for whom 404 is an answer catch it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.util.retry import RequestHistory, Retry

from steps import contract, validate

ENV_CONNECT_TIMEOUT = "HTTP_CONNECT_TIMEOUT"
ENV_READ_TIMEOUT = "HTTP_READ_TIMEOUT"
ENV_RETRIES = "HTTP_RETRIES"
ENV_BACKOFF_FACTOR = "HTTP_BACKOFF_FACTOR"

DEFAULT_CONNECT_TIMEOUT = 3.05  # just over a multiple of 3 s, the TCP SYN retransmission window
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_FACTOR = 0.5
RETRY_STATUSES = frozenset({502, 503, 504})
EXCERPT_CHARS = 200


Check = Callable[[Any, str], Any] | None  # a `shapes` check: (answer, source) -> the answer, or ServiceError


class HttpError(Exception):
    """A request to a DSM service failed; `exit_code` is what the step exits with."""

    exit_code = contract.EXIT_UNEXPECTED

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class NotSent(HttpError):
    """The request never reached the service (refused, DNS, connect timeout): retrying is safe."""

    exit_code = contract.EXIT_NOT_SENT


class ServiceError(HttpError):
    """The service was (or may have been) reached and the answer is unusable."""

    exit_code = contract.EXIT_SERVICE_ERROR


class NotFound(HttpError):
    """The service answered 404: the sprint/project/note does not exist. Never retried."""

    exit_code = contract.EXIT_NOT_FOUND


def path(template: str, **values: str) -> str:
    """A contract path with its {names} filled, each value percent-quoted (so "../x" or "a/b" stay
    one segment): path("/sprints/{sprint_id}/tasks", sprint_id="S 1") == "/sprints/S%201/tasks"."""
    return template.format_map({name: quote(str(value), safe="") for name, value in values.items()})


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short one-line excerpt of a response body for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def timeouts(environ: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(connect, read) timeouts in seconds from the environment, with the defaults above."""
    env = os.environ if environ is None else environ
    return (
        validate.seconds(ENV_CONNECT_TIMEOUT, env.get(ENV_CONNECT_TIMEOUT), DEFAULT_CONNECT_TIMEOUT),
        validate.seconds(ENV_READ_TIMEOUT, env.get(ENV_READ_TIMEOUT), DEFAULT_READ_TIMEOUT),
    )


def retry_policy(environ: Mapping[str, str] | None = None) -> Retry:
    """The urllib3 retry policy: see the module docstring."""
    env = os.environ if environ is None else environ
    retries = validate.count(ENV_RETRIES, env.get(ENV_RETRIES), DEFAULT_RETRIES)
    backoff = validate.seconds(
        ENV_BACKOFF_FACTOR, env.get(ENV_BACKOFF_FACTOR), DEFAULT_BACKOFF_FACTOR, allow_zero=True
    )
    return Retry(
        # One budget for every kind of retry: with separate counters a call could alternate
        # refused connections and 503s and make 1 + 2 x retries attempts.
        total=retries,
        # Connect errors happen before the request is sent: urllib3 retries them for any method.
        connect=retries,
        # Read errors (timeout or reset after sending) are never retried here: for a POST the
        # service may have acted; for a GET the workflow's retryPolicy retries the whole step.
        read=False,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "HEAD"}),  # status retries only for idempotent methods
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff,
        backoff_max=10.0,
        raise_on_status=False,  # hand back the last 5xx so the message can show it
        respect_retry_after_header=False,  # keep the total wait bounded (worst_case_seconds)
    )


def worst_case_seconds(environ: Mapping[str, str] | None = None) -> float:
    """The longest one call (get_json or post_json) can take before it gives up, in seconds.

    Every attempt (the first and each retry) waits its full connect and read timeouts, plus
    urllib3's backoff sleeps between attempts, computed by urllib3 itself. `Retry-After` adds
    nothing (ignored). The read timeout bounds each wait for data, so a service that trickles a
    body byte by byte could exceed this; the step's activeDeadlineSeconds is the last guard.
    """
    connect, read = timeouts(environ)
    policy = retry_policy(environ)
    retries = policy.total or 0
    attempt = RequestHistory("GET", None, None, 503, None)  # any error counts the same
    sleeps = sum(policy.new(history=(attempt,) * done).get_backoff_time() for done in range(1, retries + 1))
    return (retries + 1) * (connect + read) + sleeps


def make_session(environ: Mapping[str, str] | None = None) -> requests.Session:
    """A requests.Session with the retry policy mounted for http and https."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry_policy(environ))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["Accept"] = "application/json"
    session.headers["User-Agent"] = contract.USER_AGENT
    return session


_shared_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """The step's one session (a step is one process: one session, one connection pool)."""
    global _shared_session
    if _shared_session is None:
        _shared_session = make_session()
    return _shared_session


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when a ConnectionError happened while connecting, before any byte was sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    # NewConnectionError (refused) and NameResolutionError (DNS) are ConnectTimeoutError subclasses.
    return isinstance(cause, ConnectTimeoutError)


class Service:
    """One DSM service: its name (for messages), base URL, session and timeouts."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = session if session is not None else shared_session()
        self.timeout = timeout if timeout is not None else timeouts()

    def url(self, template: str, **values: str) -> str:
        return self.base_url + path(template, **values)

    def get_json(
        self, template: str, params: Mapping[str, str] | None = None, check: Check = None, **values: str
    ) -> Any:
        """GET a contract path (its {names} from `values`); the decoded JSON of a 2xx answer, passed
        through `check(answer, source)` (a `shapes` function) when given."""
        return self.request_json("GET", template, params=params, check=check, **values)

    def post_json(
        self, template: str, body: Any = None, encoded: bytes | None = None, check: Check = None,
        **values: str,
    ) -> Any:
        """POST (JSON body if given), as get_json. Never retried once sent.

        `encoded` is the body already encoded (UTF-8 JSON): a caller that also writes the same
        JSON to a file encodes a big body once instead of twice.
        """
        return self.request_json("POST", template, body=body, encoded=encoded, check=check, **values)

    def request_json(
        self,
        method: str,
        template: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        encoded: bytes | None = None,
        check: Check = None,
        **values: str,
    ) -> Any:
        url = self.url(template, **values)
        where = f"{self.name} {method} {url}"
        if params:
            where += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=body if encoded is None else None,
                data=encoded,
                headers=None if encoded is None else {"Content-Type": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise NotSent(
                    f"{where}: could not connect, the request was not sent ({_reason(exc)})"
                ) from exc
            raise ServiceError(
                f"{where}: the connection broke after the request was sent ({_reason(exc)})"
            ) from exc
        except requests.Timeout as exc:  # a read timeout: the request was sent
            raise ServiceError(
                f"{where}: no answer within {self.timeout[1]:g} s after sending the request"
            ) from exc
        except requests.RequestException as exc:
            raise ServiceError(f"{where}: request failed: {_reason(exc)}") from exc

        text = response.text
        if response.status_code == 404:
            raise NotFound(f"{where}: HTTP 404: {excerpt(text)}", status=404, body=text)
        if not 200 <= response.status_code < 300:
            raise ServiceError(
                f"{where}: HTTP {response.status_code}: {excerpt(text)}",
                status=response.status_code,
                body=text,
            )
        try:
            answer = response.json()
        except ValueError:  # requests.JSONDecodeError, also for an empty body
            raise ServiceError(
                f"{where}: HTTP {response.status_code} but the body is not JSON: {excerpt(text)!r}",
                status=response.status_code,
                body=text,
            ) from None
        return answer if check is None else check(answer, f"{self.name} {method} {url}")


def _reason(exc: BaseException) -> str:
    """The innermost useful reason of a requests/urllib3 error, on one line."""
    cause: Any = exc.args[0] if exc.args else exc
    if isinstance(cause, MaxRetryError) and cause.reason is not None:
        cause = cause.reason
    return excerpt(f"{type(cause).__name__}: {cause}")
