"""vultr-cli v3's commands as the report uses them: subcommands, flags and argument formats.

Written from shared/reference/vultr-notes.md ("vultr-cli v3") and checked against
vultr/vultr-cli tag v3.8.0 (cmd/instance, cmd/kubernetes, cmd/loadbalancer): flag names,
which take a value, which are required, and the delimited formats of ``--node-pools``
(``key:value`` joined by ``,``, pools by ``/``, 3 to 8 options, label, plan and quantity
required) and ``--forwarding-rules`` (four ``key:value`` joined by ``,``, rules by ``-``).
``check`` returns what is wrong with one command, as words; an empty list means valid.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

Check = Callable[[str], bool]

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _one_of(*patterns: str) -> Check:
    return lambda v: any(re.fullmatch(p, v) for p in patterns)


REGION = _one_of(r"[a-z]{3}")
PLAN = _one_of(r"(vc2|vhf|vhp|voc|vdc|vcg|vbm)-[a-z0-9-]+")
INT = _one_of(r"\d+")
OUTPUT = _one_of("json", "yaml", "text")
TEXT = _one_of(r"[^{}\[\]\s]+", r"\$[A-Z_]+")  # a label or tag: no JSON, no spaces
INSTANCE = _one_of(UUID, r"<NEW_INSTANCE_ID>", r"\$NEW_ID")
CLUSTER = _one_of(UUID, r"<CLUSTER_ID>")
POOL = _one_of(UUID)
LB = _one_of(UUID)
SCRIPT = _one_of(UUID)
VERSION = _one_of(r"v\d+\.\d+\.\d+\+\d+", r"<KUBERNETES_VERSION>")
PATH = _one_of(r"/[^\s]*")
PROTOCOL = _one_of("http", "https", "tcp")


def IDS(value: str) -> bool:
    return all(INSTANCE(v) for v in value.split(","))


POOL_KEYS = {"quantity", "plan", "label", "tag", "node-labels", "auto-scaler"}
POOL_KEYS |= {"min-nodes", "max-nodes"}


def NODE_POOLS(value: str) -> bool:
    for pool in value.split("/"):
        parts = pool.split(",")
        if not 3 <= len(parts) <= 8:
            return False
        pairs = dict(p.split(":", 1) for p in parts if ":" in p)
        if len(pairs) != len(parts) or not set(pairs) <= POOL_KEYS:
            return False
        if not {"quantity", "plan", "label"} <= set(pairs):
            return False
        if not (INT(pairs["quantity"]) and PLAN(pairs["plan"])):
            return False
        if pairs.get("auto-scaler", "true") not in ("true", "false"):
            return False
        if not all(INT(pairs[k]) for k in ("min-nodes", "max-nodes") if k in pairs):
            return False
    return True


RULE_KEYS = {"frontend_port", "frontend_protocol", "backend_port", "backend_protocol"}


def RULES(value: str) -> bool:
    for rule in value.split("-"):
        parts = rule.split(",")
        pairs = dict(p.split(":", 1) for p in parts if p.count(":") == 1)
        if len(parts) != 4 or set(pairs) != RULE_KEYS:
            return False
        ports = (pairs["frontend_port"], pairs["backend_port"])
        protocols = (pairs["frontend_protocol"], pairs["backend_protocol"])
        if not all(INT(p) for p in ports) or not all(PROTOCOL(p) for p in protocols):
            return False
    return True


SWITCH = None  # a flag without a value (--auto-scaler)


@dataclass(frozen=True)
class Spec:
    args: tuple[Check, ...]
    flags: dict[str, Check | None]
    required: frozenset[str] = field(default_factory=frozenset)
    one_of: frozenset[str] = field(default_factory=frozenset)  # at least one of these


GLOBAL: dict[str, Check | None] = {"-o": OUTPUT, "--output": OUTPUT}

V3: dict[tuple[str, ...], Spec] = {
    ("instance", "create"): Spec(
        (),
        {
            "--region": REGION, "--plan": PLAN, "--os": INT, "--script-id": SCRIPT,
            "--label": TEXT, "--tags": TEXT, "--host": TEXT,
        },
        frozenset({"--region", "--plan"}),
        frozenset({"--os", "--iso", "--snapshot", "--app", "--image"}),
    ),
    ("instance", "get"): Spec((INSTANCE,), {}),
    ("instance", "delete"): Spec((INSTANCE,), {}),
    ("kubernetes", "versions"): Spec((), {}),
    ("kubernetes", "create"): Spec(
        (),
        {
            "--label": TEXT, "--region": REGION, "--version": VERSION,
            "--node-pools": NODE_POOLS, "--high-avail": SWITCH,
        },
        frozenset({"--label", "--region", "--version", "--node-pools"}),
    ),
    ("kubernetes", "node-pool", "create"): Spec(
        (CLUSTER,),
        {
            "--label": TEXT, "--plan": PLAN, "--quantity": INT, "--tag": TEXT,
            "--auto-scaler": SWITCH, "--min-nodes": INT, "--max-nodes": INT,
        },
        frozenset({"--label", "--plan", "--quantity"}),
    ),
    ("kubernetes", "node-pool", "update"): Spec(
        (CLUSTER, POOL),
        {
            "--quantity": INT, "--tag": TEXT, "--auto-scaler": SWITCH,
            "--min-nodes": INT, "--max-nodes": INT,
        },
        one_of=frozenset({"--quantity", "--tag", "--auto-scaler", "--min-nodes", "--max-nodes"}),
    ),
    ("load-balancer", "create"): Spec(
        (),
        {
            "--region": REGION, "--label": TEXT, "--forwarding-rules": RULES,
            "--protocol": PROTOCOL, "--port": INT, "--path": PATH, "--instances": IDS,
        },
        frozenset({"--region"}),
    ),
    ("load-balancer", "update"): Spec((LB,), {"--instances": IDS, "--label": TEXT}),
}  # fmt: skip


def check(words: list[str]) -> list[str]:
    """What is wrong with one ``vultr-cli ...`` command (its words), in plain words."""
    assert words[0] == "vultr-cli"
    path = next(
        (p for p in sorted(V3, key=len, reverse=True) if tuple(words[1 : 1 + len(p)]) == p), None
    )
    if path is None:
        return [f"unknown subcommand: {' '.join(words[1:4])}"]
    spec, rest = V3[path], words[1 + len(path) :]
    flags = {**spec.flags, **GLOBAL}
    problems: list[str] = []
    args: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(rest):
        word = rest[i]
        if not word.startswith("-"):
            args.append(word)
            i += 1
            continue
        name, _, inline = word.partition("=")
        if name not in flags:
            problems.append(f"{' '.join(path)}: no flag {name}")
            i += 1
            continue
        seen.add(name)
        kind = flags[name]
        if kind is None:  # a switch: only =true/=false may follow, never a separate word
            if inline and inline not in ("true", "false"):
                problems.append(f"{name}={inline}: not a boolean")
            i += 1
            continue
        value = inline if inline else (rest[i + 1] if i + 1 < len(rest) else "")
        if not value or not kind(value):
            problems.append(f"{name} {value!r}: wrong format")
        i += 1 if inline else 2
    if len(args) != len(spec.args):
        problems.append(f"{' '.join(path)}: {len(args)} arguments, wants {len(spec.args)}")
    for arg, kind in zip(args, spec.args, strict=False):
        if not kind(arg):
            problems.append(f"argument {arg!r}: wrong format")
    missing = spec.required - seen
    if missing:
        problems.append(f"missing {', '.join(sorted(missing))}")
    if spec.one_of and not spec.one_of & seen:
        problems.append(f"needs one of {', '.join(sorted(spec.one_of))}")
    return problems


def commands(text: str) -> list[list[str]]:
    """Every ``vultr-cli`` command in shell text: continuation lines joined, each cut at the
    first pipe, ``)``, ``;`` or ``&&``; comments skipped."""
    found = []
    joined = re.sub(r"\\\n\s*", " ", text)
    # A quoted argument may span lines (the reference's JSON): one line for the lexer.
    joined = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: m.group().replace("\n", " "), joined)
    for line in joined.splitlines():
        if line.lstrip().startswith("#") or "vultr-cli " not in line:
            continue
        for start in [m.start() for m in re.finditer(r"vultr-cli ", line)]:
            lexer = shlex.shlex(line[start:], posix=True, punctuation_chars="|;&()")
            lexer.whitespace_split = True
            words = []
            for token in lexer:
                if token in ("|", ";", "&&", ")", "(", "||"):
                    break
                words.append(token)
            found.append(words)
    return found


def bash_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", markdown, re.M | re.S)
