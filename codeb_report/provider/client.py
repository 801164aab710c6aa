"""A small Vultr API v2 client: bounded reads, cursor paging, retries, one deadline.

- ``GET`` only; the key goes in the ``Authorization`` header and nowhere else.
- 429 waits ``Retry-After`` seconds when given (else backs off); 5xx other than 501 and
  dropped connections are retried with jittered exponential backoff; nothing waits past
  the deadline, which covers every page, retry and wait of the whole collection.
- Answers are read up to ``MAX_BODY`` bytes and must be JSON objects.
- Every failure is an ``ApiFailure`` with a ``kind`` (see ``model.ErrorKind``) and a
  message that has been scrubbed of the key.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from codeb_report.controls import text_only
from codeb_report.provider.key import ApiKey
from codeb_report.provider.settings import VultrSettings

if TYPE_CHECKING:
    import httpx

MAX_BODY = 32 * 2**20  # 500 instances are ~1 MB of JSON
MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
USER_AGENT = "codeb-report (provider view)"


class ApiFailure(Exception):
    def __init__(self, kind: str, message: str, endpoint: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.endpoint = endpoint
        self.status = status

    def __reduce__(self) -> tuple[type[ApiFailure], tuple[str, str, str, int | None]]:
        # Sent back from the provider's child process: rebuilt with all four fields.
        return (ApiFailure, (self.kind, self.message, self.endpoint, self.status))


def redact(text: str, key: str | None) -> str:
    return text.replace(key, "***") if key else text


class VultrClient:
    """Thread-safe: the provider's endpoints are read by a few threads at once."""

    def __init__(
        self,
        settings: VultrSettings,
        key: ApiKey,
        *,
        deadline: float,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        import httpx

        self.settings = settings
        self._key = key.value
        self.deadline = deadline
        self._sleep = sleep
        self._clock = clock
        self._rng = random.Random()
        self._lock = threading.Lock()
        self.requests = 0
        self._http = httpx.Client(
            base_url=settings.base_url,
            headers={"Authorization": f"Bearer {key.value}", "User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,  # no proxy or .netrc from the environment: base_url says where
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VultrClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one request ---------------------------------------------------------------

    def get(self, path: str, endpoint: str | None = None, **params: Any) -> dict[str, Any]:
        """The JSON object at ``path``; ``endpoint`` names it in errors (ids left out)."""
        endpoint = endpoint or path
        attempts = self.settings.attempts
        for attempt in range(1, attempts + 1):
            try:
                status, body = self._once(path, params, endpoint)
            except _Retryable as exc:
                if attempt == attempts:
                    raise self._failure(exc.kind, exc.message, endpoint, exc.status) from None
                self._wait(exc.wait if exc.wait is not None else self._backoff(attempt), endpoint)
                continue
            return self._decode(status, body, endpoint)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _once(self, path: str, params: dict[str, Any], endpoint: str) -> tuple[int, bytes]:
        import httpx

        left = self._left(endpoint)
        timeout = httpx.Timeout(
            min(self.settings.read_timeout, left),
            connect=min(self.settings.connect_timeout, left),
        )
        with self._lock:
            self.requests += 1
        try:
            with self._http.stream("GET", path, params=params, timeout=timeout) as response:
                status = response.status_code
                if status == 429:
                    raise _Retryable(
                        "rate_limited", "HTTP 429 (rate limit)", status, _retry_after(response)
                    )
                if status >= 500 and status != 501:
                    raise _Retryable("server_error", f"HTTP {status}", status)
                body = self._read(response, endpoint)
                return status, body
        except httpx.TimeoutException:
            if self._clock() >= self.deadline - 0.01:
                raise self._failure("timeout", "no answer within the deadline", endpoint) from None
            raise _Retryable("timeout", "no answer in time", None) from None
        except httpx.TransportError as exc:
            raise _Retryable("unreachable", f"{type(exc).__name__}: {exc}", None) from None

    def _read(self, response: httpx.Response, endpoint: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY:
                raise self._failure(
                    "bad_answer", f"answer larger than {MAX_BODY // 2**20} MiB", endpoint
                )
            chunks.append(chunk)
            if self._clock() > self.deadline:
                raise self._failure("timeout", "answer not complete within the deadline", endpoint)
        return b"".join(chunks)

    def _decode(self, status: int, body: bytes, endpoint: str) -> dict[str, Any]:
        data = _json_object(body)
        if status in (401, 403):
            kind = "unauthorized" if status == 401 else "forbidden"
            said = data.get("error") if isinstance(data, dict) else None
            detail = f": {str(said)[:200]}" if isinstance(said, str) and said else ""
            raise self._failure(kind, f"HTTP {status}{detail}", endpoint, status)
        if status != 200:
            said = data.get("error") if isinstance(data, dict) else None
            detail = f": {str(said)[:200]}" if isinstance(said, str) and said else ""
            raise self._failure("bad_answer", f"HTTP {status}{detail}", endpoint, status)
        if data is None:
            raise self._failure("bad_answer", "not a JSON object", endpoint, status)
        return data

    def _failure(
        self, kind: str, message: str, endpoint: str, status: int | None = None
    ) -> ApiFailure:
        return ApiFailure(kind, redact(message, self._key)[:400], endpoint, status)

    # -- waiting -----------------------------------------------------------------------

    def _left(self, endpoint: str) -> float:
        left = self.deadline - self._clock()
        if left <= 0:
            raise self._failure("timeout", "deadline passed", endpoint)
        return left

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
        return ceiling * self._rng.uniform(0.5, 1.0)

    def _wait(self, seconds: float, endpoint: str) -> None:
        if self._clock() + seconds >= self.deadline:
            raise self._failure(
                "timeout", f"a retry would wait {seconds:.1f} s, past the deadline", endpoint
            )
        self._sleep(seconds)

    # -- lists ---------------------------------------------------------------------------

    def list(
        self, path: str, envelope: str, endpoint: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a paged list, following ``meta.links.next`` to the end; more than
        ``limit`` items is a ``too_many`` failure, said as soon as a page passes it."""
        endpoint = endpoint or path
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        params: dict[str, Any] = {"per_page": self.settings.per_page}
        for _page in range(self.settings.max_pages):
            data = self.get(path, endpoint, **params)
            page = data.get(envelope)
            if not isinstance(page, list) or not all(isinstance(i, dict) for i in page):
                message = f"{envelope!r} is not a list of objects"
                raise self._failure("bad_answer", message, endpoint)
            items.extend(page)
            if limit is not None and len(items) > limit:
                message = f"more than {limit:,} items: the snapshot holds at most {limit:,}"
                raise self._failure("too_many", message, endpoint)
            cursor = _next_cursor(data)
            if not cursor:
                return items
            if cursor in seen:
                raise self._failure("bad_answer", "paging cursor repeats itself", endpoint)
            seen.add(cursor)
            params = {"per_page": self.settings.per_page, "cursor": cursor}
        raise self._failure(
            "bad_answer", f"more than {self.settings.max_pages} pages ([vultr] max_pages)", endpoint
        )


class _Retryable(Exception):
    def __init__(
        self, kind: str, message: str, status: int | None, wait: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.wait = wait


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds only; a date or garbage means backoff)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = text_only(json.loads(body.decode("utf-8")), body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _next_cursor(data: dict[str, Any]) -> str:
    meta = data.get("meta")
    links = meta.get("links") if isinstance(meta, dict) else None
    cursor = links.get("next") if isinstance(links, dict) else None
    return cursor if isinstance(cursor, str) else ""
