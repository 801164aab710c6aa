"""scale-out.sh and the report's vultr-cli blocks are run by an operator: values the Vultr
API listed (ids, labels, OS names) are data in them, never shell code."""

from __future__ import annotations

import subprocess
from pathlib import Path

from test_example_snapshot import EXAMPLE

from codeb_report.analysis import analyse
from codeb_report.provider.model import LoadBalancer
from codeb_report.render import render_report
from codeb_report.render.scale_out import Values, script
from codeb_report.snapshot import load

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


def test_names_from_the_api_stay_inside_the_comments_of_the_report_s_commands(
    tmp_path: Path,
) -> None:
    """A newline in an OS name or a load balancer's label would start a line of its own
    in the code blocks an operator copies into a shell: it must stay in the comment."""
    snapshot = load(EXAMPLE)
    assert snapshot.provider is not None and snapshot.provider.instances
    hostile = "Ubuntu\nrm -rf ~ # "
    for os_entry in snapshot.provider.operating_systems:
        os_entry.name = hostile
    for instance in snapshot.provider.instances:
        instance.os = hostile
    balancer = LoadBalancer(id="lb-1", label=hostile, region="icn", instances=["cb000002"])
    snapshot.provider.load_balancers = [balancer]
    [md] = render_report(snapshot, analyse(snapshot), ["md"], tmp_path)
    text = md.read_text(encoding="utf-8")
    assert "Ubuntu rm -rf ~" in text  # the name is shown, on its comment's line
    assert not [line for line in text.splitlines() if line.startswith("rm -rf")]
    script_lines = (tmp_path / "scale-out.sh").read_text(encoding="utf-8").splitlines()
    assert not [line for line in script_lines if line.startswith("rm -rf")]
