"""Reading the Vultr account beside the SSH collection.

``ProviderCollection.start()`` reads every list endpoint in a background thread while the
servers are collected; ``finish(servers)`` matches the instances to the collected servers
(by the addresses SSH connected to, without new DNS lookups), reads this month's bandwidth
and the backup schedule of the matched instances, and returns the ``Provider`` part. No
exception leaves it: whatever goes wrong becomes ``Provider.error`` or one of its
``problems``, and the rest of the report is untouched.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from codeb_report.logs import get_logger
from codeb_report.provider import parse
from codeb_report.provider.cli_version import vultr_cli_version
from codeb_report.provider.client import ApiFailure, VultrClient
from codeb_report.provider.key import NO_KEY, ApiKey, KeyProblem, find_key
from codeb_report.provider.match import ServerKeys, match_servers
from codeb_report.provider.model import (
    Instance,
    OperatingSystem,
    Plan,
    Provider,
    ProviderError,
    Region,
    list_bound,
)
from codeb_report.provider.settings import VultrSettings
from codeb_report.snapshot import Snapshot, now

# Four requests in flight keep under the API's 30 requests per second at ~130 ms a request
# (Seoul to the API); a faster link that hits the limit gets 429s, which are waited out.
WORKERS = 4
# What phase one leaves for phase two, sent back from the child process.
STATE = ("_read", "_error", "_key_source", "_cli_version", "_available", "_details", "_problems")
FATAL = ("instances",)  # without it there is no provider view; other parts are problems
AUTH = ("unauthorized", "forbidden")

log = get_logger("vultr")


@dataclass
class _Read:
    """What phase one read; a part that failed is absent and has its failure recorded,
    a list that had items skipped has their notes (see ``parse.items``)."""

    parts: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, ApiFailure] = field(default_factory=dict)
    skipped: dict[str, ApiFailure] = field(default_factory=dict)


@dataclass
class _Listed:
    """A list as read: the items the model accepts, and a note per item it refused."""

    items: list[Any]
    notes: list[str]
    total: int
    path: str

    def problem(self) -> ApiFailure:
        shown = "; ".join(self.notes[:3]) + (" ..." if len(self.notes) > 3 else "")
        message = f"skipped {len(self.notes)} of {self.total} items: {shown}"
        return ApiFailure("bad_answer", message, self.path)


def _list(
    path: str, envelope: str, item: Callable[[Any, list[str]], Any]
) -> Callable[[VultrClient], _Listed]:
    """Reads ``path``: at most as many items as the snapshot holds (``list_bound``)."""

    def read(client: VultrClient) -> _Listed:
        raw = client.list(path, envelope, limit=list_bound(path))
        notes: list[str] = []
        return _Listed(parse.items(raw, item, notes), notes, len(raw), path)

    return read


def _one(client: VultrClient, path: str, envelope: str, item: Callable[[Any], Any]) -> Any:
    data = client.get(path).get(envelope)
    if not isinstance(data, dict):
        raise ApiFailure("bad_answer", f"{envelope!r} is not an object", path)
    try:
        return item(data)
    except parse.BadItem as exc:
        raise ApiFailure("bad_answer", str(exc), path) from None


PARTS: dict[str, Callable[[VultrClient], Any]] = {
    "account": lambda c: _one(c, "/account", "account", parse.account),
    "bandwidth": lambda c: _one(c, "/account/bandwidth", "bandwidth", parse.account_bandwidth),
    "instances": _list("/instances", "instances", parse.alone(parse.instance)),
    "plans": _list("/plans", "plans", parse.alone(parse.plan)),
    "regions": _list("/regions", "regions", parse.alone(parse.region)),
    "os": _list("/os", "os", parse.alone(parse.operating_system)),
    "clusters": _list("/kubernetes/clusters", "vke_clusters", parse.kubernetes_cluster),
    "load_balancers": _list("/load-balancers", "load_balancers", parse.load_balancer),
    "startup_scripts": _list(
        "/startup-scripts", "startup_scripts", parse.alone(parse.startup_script)
    ),
    "blocks": _list("/blocks", "blocks", parse.alone(parse.block)),
}


class ProviderCollection:
    def __init__(
        self,
        settings: VultrSettings,
        configured: Sequence[ServerKeys],
        *,
        environ: Mapping[str, str] | None = None,
        home: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.configured = list(configured)
        self._environ = environ
        self._home = home
        self._sleep = sleep
        self._thread: threading.Thread | None = None
        self._process: BaseProcess | None = None
        self._receive: Connection | None = None
        self._key: ApiKey | None = None
        self._client: VultrClient | None = None
        self._read = _Read()
        self._error: ProviderError | None = None
        self._key_source: str | None = None
        self._cli_version: str | None = None
        self._available: dict[str, list[str]] = {}  # region -> plan ids orderable there
        self._details: dict[str, dict[str, Any]] = {}  # instance id -> its details
        self._problems: list[ProviderError] = []
        self._started = now()
        self._t0 = time.monotonic()

    # -- phase one: in the background ----------------------------------------------------

    def start(self, process: bool = False) -> ProviderCollection:
        """Read the lists in a thread, or with ``process`` in a forked child process, so
        that parsing a large account does not take the interpreter lock from the SSH
        collection (the run calls it before any other thread exists)."""
        self._find_key()  # here, so the parent's log redaction knows the key
        if process and "fork" in multiprocessing.get_all_start_methods():
            # The child inherits unwritten buffers and would write them a second time.
            sys.stdout.flush()
            sys.stderr.flush()
            context = multiprocessing.get_context("fork")
            receive, send = context.Pipe(duplex=False)
            self._process = context.Process(
                target=self._child, args=(send,), name="vultr", daemon=True
            )
            self._process.start()
            send.close()
            self._receive = receive
            return self
        self._thread = threading.Thread(target=self._phase_one, name="vultr", daemon=True)
        self._thread.start()
        return self

    def _child(self, send: Connection) -> None:
        self._phase_one()
        if self._client is not None:
            self._client.close()
            self._client = None
        send.send({name: getattr(self, name) for name in STATE})
        send.close()

    def _phase_one(self) -> None:
        try:
            self._cli_version = vultr_cli_version()
            self._read_lists()
        except Exception as exc:  # a bug here must not cost the fleet's report
            log.error("vultr: collection failed: %s", type(exc).__name__)
            self._error = ProviderError(
                kind="bad_answer", message=f"collection failed: {type(exc).__name__}"
            )

    def _find_key(self) -> None:
        try:
            self._key = find_key(self.settings, self._environ, self._home)
        except KeyProblem as exc:
            self._error = ProviderError(kind="no_key", message=str(exc)[:500])
            return
        if self._key is None:
            self._error = ProviderError(kind="no_key", message=NO_KEY)
            return
        self._key_source = self._key.source

    def _connect(self) -> VultrClient:
        if self._client is None:
            assert self._key is not None
            deadline = self._t0 + self.settings.deadline
            self._client = VultrClient(
                self.settings, self._key, deadline=deadline, sleep=self._sleep
            )
        return self._client

    def _read_lists(self) -> None:
        """Every list at once; as soon as the instances are in, the details of those the
        configuration matches and the plans orderable in their regions, in the same pool,
        so the slowest list and the instances' details overlap."""
        if self._key is None:
            return
        client = self._connect()
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="vultr") as pool:
            lists = {name: pool.submit(fn, client) for name, fn in PARTS.items()}
            try:
                instances = lists["instances"].result().items
            except ApiFailure:
                instances = []
            matched = match_servers(instances, self.configured)
            jobs = {
                **{
                    f"availability {r}": partial(_available_plans, region=r)
                    for r in sorted({i.region for i in instances})
                },
                **self._detail_jobs(matched),
            }
            follow = {name: pool.submit(fn, client) for name, fn in jobs.items()}
        self._read = _gathered(lists)
        self._check_fatal()
        self._apply_follow_ups(matched, _gathered(follow))

    def _check_fatal(self) -> None:
        fatal = _fatal(self._read.failures)
        if self._error is None and fatal is not None:
            self._error = _error(fatal)
        if self._error is None and not self._read.parts["instances"] and self.configured:
            self._error = ProviderError(
                kind="empty_instances",
                message=f"the account lists no instance, the configuration {len(self.configured)} "
                "servers (a key limited to other source addresses answers this way)",
                endpoint="/instances",
            )

    # -- phase two: once the servers are known -------------------------------------------

    def finish(self, servers: Sequence[ServerKeys] | None = None) -> Provider:
        """The provider part; ``servers`` (from the snapshot) refine the matching."""
        if not self._wait():
            self._error = self._error or ProviderError(
                kind="timeout", message="the API did not finish within the deadline"
            )
            return self._provider([])
        try:
            return self._assemble(servers if servers is not None else self.configured)
        except Exception as exc:  # as in phase one
            log.error("vultr: collection failed: %s", type(exc).__name__)
            self._error = ProviderError(
                kind="bad_answer", message=f"collection failed: {type(exc).__name__}"
            )
            return self._provider([])
        finally:
            if self._client is not None:
                self._client.close()

    def _wait(self) -> bool:
        """Phase one finished (its state here); False when it ran past the deadline."""
        left = max(0.0, self._t0 + self.settings.deadline + 5 - time.monotonic())
        if self._thread is not None:
            self._thread.join(left)
            return not self._thread.is_alive()
        if self._process is None:
            return True
        try:
            if not self._receive.poll(left):
                self._process.terminate()
                return False
            state = self._receive.recv()
        except (EOFError, OSError):
            raise RuntimeError("the provider process ended without an answer") from None
        finally:
            self._process.join(1)
        for name, value in state.items():
            setattr(self, name, value)
        return True

    def _assemble(self, servers: Sequence[ServerKeys]) -> Provider:
        instances = match_servers(self._read.parts.get("instances", []), servers)
        if self._key is not None and self._error is None:
            self._fetch_details(instances)
        plans: list[Plan] = self._read.parts.get("plans", [])
        instances = _named_os(_priced(instances, plans), self._read.parts.get("os", []))
        instances = [
            i.model_copy(update=self._details.get(i.id, {})) if i.server else i for i in instances
        ]
        problems = [_error(f) for name, f in self._read.failures.items() if name not in FATAL]
        problems += [_error(f) for f in self._read.skipped.values()]
        return self._provider(
            instances,
            regions=self._regions(instances),
            plans=plans,
            problems=problems + self._problems,
        )

    def _detail_jobs(self, instances: list[Instance]) -> dict[str, Callable[[VultrClient], Any]]:
        """This month's bandwidth and the backup schedule of matched instances not yet read."""
        month = datetime.now(UTC).strftime("%Y-%m")
        jobs: dict[str, Callable[[VultrClient], Any]] = {}
        for inst in instances:
            if inst.server is None or inst.id in self._details:
                continue
            jobs[f"bandwidth {inst.id}"] = partial(_bandwidth, instance_id=inst.id, month=month)
            jobs[f"backup_schedule {inst.id}"] = partial(_schedule, instance_id=inst.id)
        return jobs

    def _fetch_details(self, instances: list[Instance]) -> None:
        """Details of instances only the addresses SSH connected to could match. Most runs
        have none: then no client is made here (after a child process read the lists, that
        would import httpx on the run's critical path)."""
        jobs = self._detail_jobs(instances)
        if not jobs:
            return
        client = self._connect()
        # The servers may have taken longer than the API's deadline: a little more time.
        client.deadline = max(client.deadline, time.monotonic() + self.settings.deadline / 4)
        self._apply_follow_ups(instances, _read_all(client, jobs))

    def _apply_follow_ups(self, instances: list[Instance], read: _Read) -> None:
        """Availability per region and details per instance; failures become problems."""
        labels = {i.id: i.label or i.id for i in instances}
        for name, failure in read.failures.items():
            what, key = name.split(" ", 1)
            failure.message = f"{labels.get(key, key)}: {failure.message}"
            self._problems.append(_error(failure))
        for name, value in read.parts.items():
            what, key = name.split(" ", 1)
            if what == "availability":
                self._available[key] = value
            else:
                self._details.setdefault(key, {"bandwidth": None, "backup_schedule": None})
                self._details[key][what] = value
        for name in read.failures:
            what, key = name.split(" ", 1)
            if what != "availability":
                self._details.setdefault(key, {"bandwidth": None, "backup_schedule": None})

    def _regions(self, instances: list[Instance]) -> list[Region]:
        used = _used_regions(self._read.parts, instances)
        return [
            r.model_copy(update={"available_plans": self._available.get(r.id)})
            for r in self._read.parts.get("regions", [])
            if r.id in used
        ]

    def _provider(
        self,
        instances: list[Instance],
        *,
        regions: list[Region] | None = None,
        plans: list[Plan] | None = None,
        problems: list[ProviderError] | None = None,
    ) -> Provider:
        parts = self._read.parts
        used_regions = {r.id for r in regions or []}
        in_use = {i.plan for i in instances}
        kept_plans = [p for p in plans or [] if p.id in in_use or used_regions & set(p.locations)]
        os_ids = {i.os_id for i in instances}
        systems: list[OperatingSystem] = [o for o in parts.get("os", []) if o.id in os_ids]
        return Provider(
            collected_at=self._started,
            duration_seconds=round(time.monotonic() - self._t0, 3),
            cli_version=self._cli_version,
            key_source=self._key_source,
            error=self._error,
            problems=_merged(problems or []),
            account=parts.get("account"),
            bandwidth=parts.get("bandwidth"),
            regions=regions or [],
            plans=kept_plans,
            operating_systems=systems,
            instances=instances,
            kubernetes_clusters=parts.get("clusters", []),
            load_balancers=parts.get("load_balancers", []),
            startup_scripts=parts.get("startup_scripts", []),
            blocks=parts.get("blocks", []),
        )


def _read_all(client: VultrClient, parts: Mapping[str, Callable[[VultrClient], Any]]) -> _Read:
    if not parts:
        return _Read()
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="vultr") as pool:
        futures = {name: pool.submit(fn, client) for name, fn in parts.items()}
    return _gathered(futures)


def _gathered(futures: Mapping[str, Future[Any]]) -> _Read:
    """Finished futures sorted into results and API failures (anything else is a bug)."""
    read = _Read()
    for name, future in futures.items():
        exc = future.exception()
        if exc is None:
            value = future.result()
            if isinstance(value, _Listed):
                if value.notes:
                    read.skipped[name] = value.problem()
                value = value.items
            read.parts[name] = value
        elif isinstance(exc, ApiFailure):
            read.failures[name] = exc
        else:
            raise exc
    return read


def _fatal(failures: Mapping[str, ApiFailure]) -> ApiFailure | None:
    """A refused key first (it explains every other failure), then the instance list."""
    refused = [f for f in failures.values() if f.kind in AUTH]
    if refused:
        return refused[0]
    return next((failures[n] for n in FATAL if n in failures), None)


def _error(failure: ApiFailure) -> ProviderError:
    return ProviderError(
        kind=failure.kind,  # type: ignore[arg-type]
        message=failure.message[:500],
        endpoint=failure.endpoint[:256],
        status=failure.status,
    )


def _merged(problems: list[ProviderError]) -> list[ProviderError]:
    """One problem per endpoint and kind, with a count: 500 failed bandwidth reads are one."""
    groups: dict[tuple[str | None, str], list[ProviderError]] = {}
    for problem in problems:
        groups.setdefault((problem.endpoint, problem.kind), []).append(problem)
    merged = []
    for group in groups.values():
        first = group[0]
        extra = f" (and {len(group) - 1} more)" if len(group) > 1 else ""
        merged.append(first.model_copy(update={"message": (first.message + extra)[:500]}))
    return merged[:100]


def _priced(instances: list[Instance], plans: list[Plan]) -> list[Instance]:
    costs = {p.id: p.monthly_cost for p in plans}
    return [i.model_copy(update={"monthly_cost": costs.get(i.plan)}) for i in instances]


def _named_os(instances: list[Instance], systems: list[OperatingSystem]) -> list[Instance]:
    """The OS name as /os gives it (public repos disagree which release an id is)."""
    names = {o.id: o.name for o in systems}
    return [
        i.model_copy(update={"os": names[i.os_id]}) if i.os_id in names else i for i in instances
    ]


def _used_regions(parts: Mapping[str, Any], instances: list[Instance]) -> set[str]:
    used = {i.region for i in instances}
    for key in ("clusters", "load_balancers", "blocks"):
        used |= {x.region for x in parts.get(key, []) if x.region}
    return used


def _object(client: VultrClient, path: str, envelope: str, endpoint: str) -> dict[str, Any]:
    data = client.get(path, endpoint).get(envelope)
    return data if isinstance(data, dict) else {}


def _available_plans(client: VultrClient, region: str) -> list[str]:
    data = client.get(f"/regions/{region}/availability", "/regions/{id}/availability")
    return parse.available_plans(data)


def _bandwidth(client: VultrClient, instance_id: str, month: str) -> Any:
    endpoint = "/instances/{id}/bandwidth"
    data = _object(client, f"/instances/{instance_id}/bandwidth", "bandwidth", endpoint)
    return parse.instance_bandwidth(data, month)


def _schedule(client: VultrClient, instance_id: str) -> Any:
    endpoint = "/instances/{id}/backup-schedule"
    try:
        data = _object(
            client, f"/instances/{instance_id}/backup-schedule", "backup_schedule", endpoint
        )
    except ApiFailure as exc:
        if exc.status in (400, 404):  # backups off: some accounts answer "not found"
            return None
        raise
    try:
        return parse.backup_schedule(data)
    except parse.BadItem as exc:
        raise ApiFailure("bad_answer", str(exc), endpoint) from None


def server_keys(snapshot: Snapshot) -> list[ServerKeys]:
    return [
        ServerKeys(
            name=s.name,
            host=s.host,
            address=s.address,
            hostname=s.system.hostname if s.system else None,
        )
        for s in snapshot.servers
    ]
