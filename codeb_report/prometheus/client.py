"""Prometheus' HTTP API (``/api/v1/query`` and ``/api/v1/query_range``) over httpx.

Every failure is a ``PrometheusError`` whose message is one English line naming what
went wrong (connection refused, HTTP 503, query timeout…) without the credentials; the
report turns it into Korean (codeb_report/analysis/reasons.py). Answers are bounded in
size and non-finite values are dropped, as every input is.
"""

from __future__ import annotations

import json
import logging
import math
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codeb_report.controls import text_only
from codeb_report.logs import redact, register_secret
from codeb_report.prometheus.settings import PrometheusSettings

if TYPE_CHECKING:
    import httpx

Labels = dict[str, str]
# Label values become names, hostnames and mounts in the report: a longer one (no real
# hostname, kernel or OS name comes near) is cut, so that one series cannot make the
# report megabytes long.
MAX_LABEL_CHARS = 1024


class PrometheusError(Exception):
    """Prometheus could not answer; ``str()`` is one line, safe for logs and snapshots."""


@dataclass
class Sample:
    labels: Labels
    value: float
    at: float = 0.0  # the sample's time for timestamp() queries, else the query's


@dataclass
class RangeSeries:
    """One series of a range query: ``values[i]`` is its value at ``start + i * step``
    (None where it had none), compact for a thousand servers over months."""

    labels: Labels
    values: list[float | None] = field(default_factory=list)


def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    if ca_file is None:
        return ssl.create_default_context()
    path = Path(ca_file).expanduser()
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise PrometheusError(f"ca_file {path}: {getattr(exc, 'strerror', None) or exc}") from None


class PrometheusClient:
    """One HTTP client, shared by the threads that run a collection's queries."""

    def __init__(self, settings: PrometheusSettings) -> None:
        import httpx

        # httpx logs every request at INFO: the run log wants our lines, not its.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        password, token, problem = settings.secrets()
        if problem:
            raise PrometheusError(problem)
        # Basic auth sends base64 of "user:password": its forms are scrubbed as well.
        register_secret(password, login=settings.username)
        register_secret(token)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        auth = httpx.BasicAuth(settings.username, password) if settings.username else None
        self.settings = settings
        self.limit = settings.max_response_mb * 1024 * 1024
        # Longer than Prometheus' own timeout (sent with each query), so its answer wins.
        wait = settings.timeout + min(settings.timeout, 5.0)
        self._http = httpx.Client(
            base_url=settings.url,
            auth=auth,
            headers=headers,
            verify=_ssl_context(settings.ca_file),
            timeout=httpx.Timeout(wait, connect=min(settings.timeout, 10.0)),
            follow_redirects=False,
            trust_env=False,  # never a proxy from the environment between us and Prometheus
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def query(self, promql: str, at: float) -> list[Sample]:
        data = self._call("/api/v1/query", {"query": promql, "time": f"{at:.3f}"})
        if data.get("resultType") != "vector":
            raise PrometheusError(f"unexpected result type {data.get('resultType')!r}")
        samples = []
        for item in _results(data):
            value = _number(item.get("value"))
            if value is not None:
                samples.append(Sample(_labels(item), value[1], value[0]))
        return samples

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[RangeSeries]:
        form = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = self._call("/api/v1/query_range", form)
        if data.get("resultType") != "matrix":
            raise PrometheusError(f"unexpected result type {data.get('resultType')!r}")
        count = round((end - start) / step) + 1
        result = []
        for item in _results(data):
            pairs = item.get("values")
            values = _aligned(pairs if isinstance(pairs, list) else [], start, step, count)
            result.append(RangeSeries(_labels(item), values))
        del data  # the parsed answer: the largest thing held, released before the next
        return result

    def _call(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            return self._ask(path, form)
        except PrometheusError as exc:
            # An error answer (or a proxy's) may quote the Authorization header; its text
            # goes into the snapshot, the report and the mail.
            raise PrometheusError(redact(str(exc))) from None

    def _ask(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        import httpx

        form = {**form, "timeout": f"{self.settings.timeout:g}s"}
        where = f"{self.settings.url}{path}"
        try:
            with self._http.stream("POST", path, data=form) as response:
                body = self._read(response)
        except httpx.TimeoutException:
            raise PrometheusError(
                f"timed out after {self.settings.timeout:g} s ({where})"
            ) from None
        except httpx.ConnectError as exc:
            raise PrometheusError(f"cannot connect: {_cause(exc)} ({where})") from None
        except httpx.HTTPError as exc:
            raise PrometheusError(f"{type(exc).__name__}: {_cause(exc)} ({where})") from None
        return _answer(response.status_code, body, where)

    def _read(self, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.limit:
                raise PrometheusError(
                    f"answer larger than max_response_mb ({self.settings.max_response_mb} MB)"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _cause(exc: BaseException) -> str:
    """The innermost reason ("Connection refused"), not httpx's wrapper text."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


def _answer(status: int, body: bytes, where: str) -> dict[str, Any]:
    try:
        parsed = text_only(json.loads(body), body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        if status != 200:
            raise PrometheusError(f"HTTP {status} ({where})")
        raise PrometheusError(f"answer is not JSON ({where})")
    if status == 200 and parsed.get("status") == "success" and isinstance(parsed.get("data"), dict):
        return parsed["data"]
    kind = str(parsed.get("errorType") or "")[:40]
    error = str(parsed.get("error") or "").splitlines()[0][:300] if parsed.get("error") else ""
    if kind == "timeout":
        raise PrometheusError(f"query timed out: {error} ({where})")
    detail = f": {kind}: {error}" if kind or error else ""
    raise PrometheusError(f"HTTP {status}{detail} ({where})")


def _results(data: dict[str, Any]) -> list[dict[str, Any]]:
    result = data.get("result")
    return [r for r in result if isinstance(r, dict)] if isinstance(result, list) else []


def _labels(item: dict[str, Any]) -> Labels:
    metric = item.get("metric")
    if not isinstance(metric, dict):
        return {}
    return {str(k): _bounded(str(v)) for k, v in metric.items()}


def _bounded(value: str) -> str:
    return value if len(value) <= MAX_LABEL_CHARS else value[: MAX_LABEL_CHARS - 1] + "…"


def _aligned(pairs: list[Any], start: float, step: float, count: int) -> list[float | None]:
    """[[time, "value"], ...] as values at ``start + i * step``. A thousand servers over
    months are millions of points: the well-formed answer takes the tight loop, anything
    else (a malformed pair) the careful one."""
    values: list[float | None] = [None] * count
    try:
        for at, text in pairs:
            value = float(text)
            index = int((at - start) / step + 0.5)
            if 0 <= index < count and value - value == 0:  # finite: NaN and ±Inf fail
                values[index] = value
    except (TypeError, ValueError):
        values = [None] * count
        for pair in pairs:
            point = _number(pair)
            index = round((point[0] - start) / step) if point else -1
            if point and 0 <= index < count:
                values[index] = point[1]
    return values


def _number(pair: Any) -> tuple[float, float] | None:
    """A [time, "value"] pair as floats; None when malformed or not finite (NaN, Inf)."""
    if not isinstance(pair, list) or len(pair) != 2:
        return None
    try:
        at, value = float(pair[0]), float(pair[1])
    except (TypeError, ValueError):
        return None
    return (at, value) if math.isfinite(at) and math.isfinite(value) else None
