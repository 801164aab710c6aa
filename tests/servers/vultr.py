"""A fake Vultr API v2 on 127.0.0.1: a real HTTP server serving tests/fixtures/vultr/.

Lists are paged by cursor as the API does (``per_page``, ``cursor``, ``meta.links.next``
empty on the last page). A test changes behaviour per path: ``script(path, ...)`` queues
one-shot answers (a 429 with or without Retry-After, a 500, a slow or malformed answer,
a dropped connection) served before the normal one; ``key`` is the only accepted key.
Every request is recorded (path, query, Authorization header).
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vultr"
TEST_KEY = "TESTKEY0SECRET0VULTR0ABCDEFGHIJKLMNOP"  # made up; must never leave the request

LISTS = {  # path -> (fixture, envelope)
    "/instances": ("instances.json", "instances"),
    "/plans": ("plans.json", "plans"),
    "/regions": ("regions.json", "regions"),
    "/os": ("os.json", "os"),
    "/kubernetes/clusters": ("kubernetes.json", "vke_clusters"),
    "/load-balancers": ("load-balancers.json", "load_balancers"),
    "/startup-scripts": ("startup-scripts.json", "startup_scripts"),
    "/blocks": ("blocks.json", "blocks"),
}
OBJECTS = {
    "/account": "account.json",
    "/account/bandwidth": "account-bandwidth.json",
    "/regions/icn/availability": "availability-icn.json",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def month_days(data: dict[str, Any]) -> dict[str, Any]:
    """THIS_MONTH/LAST_MONTH days put into the current UTC month and the one before."""
    first = datetime.now(UTC).replace(day=1)
    last = (first - timedelta(days=1)).strftime("%Y-%m")
    days = {
        day.replace("THIS_MONTH", this_month()).replace("LAST_MONTH", last): figures
        for day, figures in data["bandwidth"].items()
    }
    return {"bandwidth": days}


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict -> JSON; bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without an answer


@dataclass
class FakeVultr:
    port: int = 0
    key: str = TEST_KEY
    lists: dict[str, list[Any]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    scripted: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]], str]] = field(default_factory=list)
    max_per_page: int = 500
    loop_cursor: bool = False  # every page points at the same next cursor
    _lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)  # ends delays

    def __post_init__(self) -> None:
        for path, (name, envelope) in LISTS.items():
            self.lists.setdefault(path, fixture(name)[envelope])
        for path, name in OBJECTS.items():
            self.objects.setdefault(path, fixture(name))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def script(self, path: str, *answers: Answer) -> None:
        self.scripted.setdefault(path, []).extend(answers)

    def calls(self, path: str) -> list[dict[str, list[str]]]:
        return [query for p, query, _ in self.requests if p == path]

    # -- answering ------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, list[str]], auth: str) -> Answer:
        with self._lock:
            self.requests.append((path, query, auth))
            queue = self.scripted.get(path)
            if queue:
                return queue.pop(0)
        if auth != f"Bearer {self.key}":
            return Answer(401, {"error": "Invalid API token.", "status": 401})
        if path in self.lists:
            return Answer(200, self._page(path, query))
        if path in self.objects:
            return Answer(200, copy.deepcopy(self.objects[path]))
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "instances" and parts[2] == "bandwidth":
            return Answer(200, month_days(fixture("instance-bandwidth.json")))
        if len(parts) == 3 and parts[0] == "instances" and parts[2] == "backup-schedule":
            return Answer(200, fixture("backup-schedule.json"))
        if len(parts) == 3 and parts[0] == "regions" and parts[2] == "availability":
            return Answer(200, {"available_plans": []})
        return Answer(404, {"error": "Not found", "status": 404})

    def _page(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        items = self.lists[path]
        per_page = min(int(query.get("per_page", ["100"])[0]), self.max_per_page)
        cursor = query.get("cursor", [""])[0]
        start = int(base64.b64decode(cursor).decode().removeprefix("next__")) if cursor else 0
        page = items[start : start + per_page]
        more = start + per_page < len(items)
        following = "next__1" if self.loop_cursor else f"next__{start + per_page}"
        next_cursor = base64.b64encode(following.encode()).decode() if more else ""
        envelope = LISTS[path][1] if path in LISTS else path.strip("/")
        return {
            envelope: page,
            "meta": {"total": len(items), "links": {"next": next_cursor, "prev": ""}},
        }


def _handler(api: FakeVultr) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = url.path.removeprefix("/v2")
            answer = api.answer(path, parse_qs(url.query), self.headers.get("Authorization", ""))
            if answer.delay and api.closing.wait(answer.delay):
                # The test is over: a late answer would write, or print a traceback, into
                # whichever test runs then.
                self.close_connection = True
                return
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            body = (
                answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            )
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(api: FakeVultr) -> tuple[FakeVultr, _Server]:
    server = _Server(("127.0.0.1", 0), _handler(api))
    api.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, name="fake-vultr", daemon=True).start()
    return api, server


@pytest.fixture
def vultr_api() -> Iterator[FakeVultr]:
    api, server = serve(FakeVultr())
    try:
        yield api
    finally:
        api.closing.set()
        server.shutdown()
        server.server_close()
