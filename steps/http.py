"""The one HTTP helper of the steps: (connect, read) timeouts, bounded retries, errors with exit codes.

GETs are retried on connection errors and 502/503/504, a POST only when it was never sent, and
`Retry-After` is ignored so that a call's worst case stays bounded: docs/workflow.md, "Retries and deadlines".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partialmethod
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.util.retry import Retry

from steps import contract, validate

ENV_CONNECT_TIMEOUT = "HTTP_CONNECT_TIMEOUT"
ENV_READ_TIMEOUT = "HTTP_READ_TIMEOUT"
ENV_RETRIES = "HTTP_RETRIES"
ENV_BACKOFF_FACTOR = "HTTP_BACKOFF_FACTOR"

DEFAULT_CONNECT_TIMEOUT = 3.05  # just over a multiple of 3 s, the TCP SYN retransmission window
DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_FACTOR = 0.5
EXCERPT_CHARS = 200


class HttpError(Exception):
    """A request to a DSM service failed (cli.EXIT_CODES maps each kind to the step's exit code)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status of the answer, if there was one


class NotSent(HttpError):
    """The request never reached the service (refused, DNS, connect timeout): exit 75, safe to retry."""


class ServiceError(HttpError):
    """The service was (or may have been) reached and the answer is unusable: exit 3."""


class NotFound(HttpError):
    """The service answered 404: the sprint/project/note does not exist: exit 4, never retried."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A short one-line excerpt of a response body for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def timeouts(environ: Mapping[str, str]) -> tuple[float, float]:
    """(connect, read) timeouts in seconds from the environment, with the defaults above."""
    return (
        validate.seconds(ENV_CONNECT_TIMEOUT, environ.get(ENV_CONNECT_TIMEOUT), DEFAULT_CONNECT_TIMEOUT),
        validate.seconds(ENV_READ_TIMEOUT, environ.get(ENV_READ_TIMEOUT), DEFAULT_READ_TIMEOUT),
    )


def retry_policy(environ: Mapping[str, str]) -> Retry:
    """The urllib3 retry policy: see the module docstring."""
    retries = validate.count(ENV_RETRIES, environ.get(ENV_RETRIES), DEFAULT_RETRIES)
    backoff = validate.seconds(
        ENV_BACKOFF_FACTOR, environ.get(ENV_BACKOFF_FACTOR), DEFAULT_BACKOFF_FACTOR, allow_zero=True
    )
    return Retry(
        # One budget for every kind of retry: with separate counters a call could alternate
        # refused connections and 503s and make 1 + 2 x retries attempts.
        total=retries,
        connect=retries,  # before the request is sent: urllib3 retries them for any method
        # Read errors (after sending) are never retried here: for a POST the service may have
        # acted; for a GET the workflow's retryPolicy retries the whole step.
        read=False,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "HEAD"}),  # status retries only for idempotent methods
        status_forcelist=frozenset({502, 503, 504}),
        backoff_factor=backoff,
        backoff_max=10.0,
        raise_on_status=False,  # hand back the last 5xx so the message can show it
        respect_retry_after_header=False,  # keep the total wait bounded (tests/workflows/test_retries.py)
    )


def make_session(environ: Mapping[str, str]) -> requests.Session:
    """A requests.Session with the retry policy mounted for http and https."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry_policy(environ))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"Accept": "application/json", "User-Agent": contract.USER_AGENT})
    return session


def _cause(exc: BaseException) -> Any:
    """The urllib3 error under a requests error (a MaxRetryError's reason)."""
    cause: Any = exc.args[0] if exc.args else exc
    return cause.reason if isinstance(cause, MaxRetryError) and cause.reason is not None else cause


def _reason(exc: BaseException) -> str:
    cause = _cause(exc)
    return excerpt(f"{type(cause).__name__}: {cause}")


class Service:
    """One DSM service: its name (for messages), base URL, session and timeouts."""

    def __init__(self, name: str, base_url: str, *, session: requests.Session,
                 timeout: tuple[float, float]) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.timeout = timeout

    def url(self, template: str, **values: str) -> str:
        """A contract path's URL, each {name} percent-quoted so that "../x" stays one segment."""
        quoted = {name: quote(value, safe="") for name, value in values.items()}
        return self.base_url + template.format_map(quoted)

    def request_json(
        self, method: str, template: str, params: Mapping[str, str] | None = None,
        encoded: bytes | None = None, check: Callable[[Any, str], Any] | None = None, **values: str,
    ) -> Any:
        """`method` a contract path (its {names} from `values`), with `encoded` (UTF-8 JSON) as the body
        if given: the decoded JSON of a 2xx answer, passed through `check(answer, source)` when given
        (a `shapes` check). A POST is never retried once sent (see the module docstring)."""
        url = self.url(template, **values)
        source = f"{self.name} {method} {url}"
        where = source + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        try:
            response = self.session.request(
                method, url, params=params, data=encoded, timeout=self.timeout, allow_redirects=False,
                headers=None if encoded is None else {"Content-Type": "application/json"},
            )
        except requests.ConnectionError as exc:
            # NewConnectionError (refused) and NameResolutionError (DNS) are ConnectTimeoutErrors.
            if isinstance(exc, requests.ConnectTimeout) or isinstance(_cause(exc), ConnectTimeoutError):
                message = f"{where}: could not connect, the request was not sent ({_reason(exc)})"
                raise NotSent(message) from exc
            message = f"{where}: the connection broke after the request was sent ({_reason(exc)})"
            raise ServiceError(message) from exc
        except requests.Timeout as exc:  # a read timeout: the request was sent
            message = f"{where}: no answer within {self.timeout[1]:g} s after sending the request"
            raise ServiceError(message) from exc
        except requests.RequestException as exc:
            raise ServiceError(f"{where}: request failed: {_reason(exc)}") from exc

        text, status = response.text, response.status_code
        if status == 404:
            raise NotFound(f"{where}: HTTP 404: {excerpt(text)}", status=404)
        if not 200 <= status < 300:
            raise ServiceError(f"{where}: HTTP {status}: {excerpt(text)}", status=status)
        try:
            answer = response.json()
        except ValueError:  # requests.JSONDecodeError, also for an empty body
            message = f"{where}: HTTP {status} but the body is not JSON: {excerpt(text)!r}"
            raise ServiceError(message, status=status) from None
        return answer if check is None else check(answer, source)

    get_json = partialmethod(request_json, "GET")
    post_json = partialmethod(request_json, "POST")
