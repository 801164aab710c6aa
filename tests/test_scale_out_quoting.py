"""scale-out.sh is run by an operator: values the Vultr API listed (ids of the instances a
load balancer holds) are data in it, never shell code, whatever they contain."""

from __future__ import annotations

import subprocess
from pathlib import Path

from codeb_report.render.scale_out import Values, script

HOSTILE = ["cb000002", "x$(touch {canary})", "y`touch {canary}`", 'z\'"; touch {canary}; "']


def balancer_line(attached: list[str]) -> str:
    values = Values(
        region="icn",
        plan="vc2-2c-4gb",
        os_id=1743,
        os_name="Ubuntu 22.04 LTS x64",
        script_id=None,
        label_prefix="app",
        ports=[4001],
        proxy_host=None,
        proxy_name=None,
        admin_url=None,
        handler=None,
        balancer="lb-1",
        attached=attached,
    )
    [line] = [x for x in script(values).splitlines() if x.startswith("vultr-cli load-balancer")]
    return line


def test_attached_ids_from_the_api_are_quoted(tmp_path: Path) -> None:
    canary = tmp_path / "ran"
    ids = [i.format(canary=canary) for i in HOSTILE]
    line = balancer_line(ids)
    # vultr-cli as a shell function that prints the words it was given, one per line.
    shell = f'vultr-cli() {{ printf "%s\\n" "$@"; }}; NEW_ID=cb-new; {line}'
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert not canary.exists()
    assert done.stdout.splitlines() == [
        "load-balancer",
        "update",
        "lb-1",
        "--instances",
        ",".join([*ids, "cb-new"]),
    ]


def test_plain_ids_stay_readable() -> None:
    line = balancer_line(["cb000002", "cb000003"])
    assert line == 'vultr-cli load-balancer update lb-1 --instances cb000002,cb000003,"$NEW_ID"'
