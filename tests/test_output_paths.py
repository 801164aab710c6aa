"""It writes only what is its own, and only where it was told.

Every ``-o PATH`` (collect, diff, init, the ``.eml`` of ``send --dry-run``) and every file
of a run goes through one function; these tests hold it to ``>``'s behaviour where a path
is not a plain file, to 0600/0700 for what it creates, and to one line for every failure,
a full disk included.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from codeb_report.analysis.model import Analysis
from codeb_report.atomic import write_output
from codeb_report.errors import Exit, OutputError
from codeb_report.lock import run_lock
from codeb_report.logs import run_log
from codeb_report.mail.settings import MailSettings
from codeb_report.nightly.run import NightlyOptions, run_nightly
from codeb_report.outputdir import today
from codeb_report.snapshot import Server, Snapshot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "fleet-snapshot.json"
CLI = str(Path(sys.executable).with_name("codeb-report"))


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, **kwargs)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -o PATH --------------------------------------------------------------------------------


def test_dash_is_stdout_and_no_file_named_dash(tmp_path: Path) -> None:
    done = cli("collect", "-o", "-", cwd=tmp_path)
    assert done.returncode in (0, 4), done.stderr
    assert done.stdout.startswith(b"{") and b'"schema_version"' in done.stdout
    assert list(tmp_path.iterdir()) == []
    diff = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", "-", cwd=tmp_path)
    assert diff.returncode == 0 and "변경 사항" in diff.stdout.decode()
    assert list(tmp_path.iterdir()) == []


def test_a_device_is_written_through_never_replaced(tmp_path: Path) -> None:
    done = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", "/dev/null")
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    full = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", "/dev/full")
    assert full.returncode == 2  # diff's trouble
    assert full.stderr.decode().splitlines() == [
        "Error: /dev/full: cannot write: No space left on device"
    ]
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_output(fifo, b"through the pipe\n")
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_symlink_stays_and_its_file_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.md"
    link.symlink_to(real.name)
    done = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == "real.md"
    assert "변경 사항" in real.read_text()
    assert mode(real) == 0o640  # an existing file keeps its permissions, as with >


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "fleet.toml"
    link.symlink_to("configs/fleet.toml")
    (tmp_path / "configs").mkdir()
    done = cli("init", "--force", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and (tmp_path / "configs" / "fleet.toml").is_file()


def test_init_without_force_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "fleet.toml"
    link.symlink_to("/etc/codeb-report-nowhere.toml")
    done = cli("init", str(link))
    assert done.returncode == Exit.INPUT
    assert "already exists" in done.stderr.decode()


def test_new_files_are_0600_existing_files_keep_their_mode(tmp_path: Path) -> None:
    new, shared = tmp_path / "new.md", tmp_path / "shared.md"
    shared.write_text("x")
    shared.chmod(0o644)
    for target in (new, shared):
        done = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", str(target))
        assert done.returncode == 0, done.stderr
    assert mode(new) == 0o600
    assert mode(shared) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.md", "shared.md"]


def test_a_missing_folder_is_an_error_not_created(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.md"
    done = cli("diff", str(EXAMPLE), str(EXAMPLE), "-o", str(target))
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"Error: {target}: cannot write: no folder {target.parent}"
    ]
    assert not (tmp_path / "nonexistent").exists()
    collect = cli("collect", "-o", str(target))
    assert collect.returncode == Exit.OUTPUT
    assert not (tmp_path / "nonexistent").exists()


def test_a_folder_in_the_way_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(OutputError, match=r"/x: cannot write: Is a directory$"):
        write_output(tmp_path / "x", b"")


def test_render_creates_its_folder_0700_but_not_missing_parents(tmp_path: Path) -> None:
    done = cli("render", str(EXAMPLE), "-f", "md", "--out", str(tmp_path / "report"))
    assert done.returncode == 0, done.stderr
    assert mode(tmp_path / "report") == 0o700
    assert mode(tmp_path / "report" / "report.md") == 0o600
    deep = cli("render", str(EXAMPLE), "-f", "md", "--out", str(tmp_path / "a" / "b"))
    assert deep.returncode == Exit.OUTPUT
    assert deep.stderr.decode().splitlines() == [
        f"Error: {tmp_path / 'a' / 'b'}: cannot create the folder: no folder {tmp_path / 'a'}"
    ]


# The run lock ---------------------------------------------------------------------------


def test_a_symlinked_lock_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "precious"
    victim.write_text("keep me\n")
    root = tmp_path / "output"
    root.mkdir()
    (root / ".lock").symlink_to(victim)
    refused = pytest.raises(OutputError, match=r"\.lock: cannot open the run lock: a symlink")
    with refused, run_lock(root / ".lock"):
        pass
    assert victim.read_text() == "keep me\n"


def test_a_hard_linked_lock_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "precious"
    victim.write_text("keep me\n")
    root = tmp_path / "output"
    root.mkdir()
    os.link(victim, root / ".lock")
    refused = pytest.raises(OutputError, match=r"not a lock file of this user")
    with refused, run_lock(root / ".lock"):
        pass
    assert victim.read_text() == "keep me\n"


def test_the_lock_is_0600_and_never_truncated(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    with run_lock(lock):
        held = lock.read_text()
        assert held.startswith(f"pid {os.getpid()} since ") and mode(lock) == 0o600
    after = lock.read_bytes()
    assert len(after) == len(held) and after.strip() == b""  # blanked, same length


# A run's files --------------------------------------------------------------------------


def test_every_file_of_a_run_is_0600_in_0700_folders(tmp_path: Path) -> None:
    root = tmp_path / "output"
    done = cli("run", "--output-root", str(root), "-q")
    assert done.returncode in (0, 4), done.stderr
    day = root / today().isoformat()
    assert mode(root) == 0o700 and mode(day) == 0o700
    files = {p.name: mode(p) for p in [*day.iterdir(), root / ".lock"]}
    assert set(files) == {
        "snapshot.json", "report.md", "report.html", "report.pdf", "run.log", ".lock"
    }  # fmt: skip
    assert set(files.values()) == {0o600}, files


def _collect() -> Snapshot:
    server = Server(name="n1", host="h", role="App", reachable=True)
    return Snapshot(collected_at=datetime.now(UTC), collector_version="t", servers=[server])


def _analyse(snapshot: Snapshot) -> Analysis:
    return Analysis(servers=[], findings=[], assessment=[], next_steps=[])


def _render(snapshot: Snapshot, analysis: Analysis, formats: list[str], out: Path) -> list[Path]:
    written = []
    for fmt in formats:
        write_output(out / f"report.{fmt}", f"%PDF-1.7 {fmt}\n")
        written.append(out / f"report.{fmt}")
    return written


def test_a_latest_folder_in_the_way_is_said_and_retention_and_mail_still_happen(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "output"
    old = root / "2001-01-01"
    old.mkdir(parents=True)
    (root / "latest").mkdir()  # an operator's copy, say
    mail = MailSettings(host="127.0.0.1", sender="r@codeb.test", to=["ops@codeb.test"])
    options = NightlyOptions(root, keep_days=30, mail=mail, dry_run=True)
    code = run_nightly(options, _collect, _analyse, _render)
    assert code == Exit.OUTPUT
    day = root / today().isoformat()
    log = (day / "run.log").read_text()
    assert f"{root / 'latest'}: exists and is not a symlink; move it away" in log
    assert "removed 2001-01-01 (older than 30 days)" in log and not old.exists()
    assert (day / "report.eml").is_file() and mode(day / "report.eml") == 0o600
    assert log.rstrip().endswith("run finished, exit code 8")
    assert any("latest" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert (root / "latest").is_dir()  # not ours to remove


# A full disk ----------------------------------------------------------------------------


def test_a_log_that_cannot_be_written_is_remembered_not_a_traceback(
    capfd: pytest.CaptureFixture,
) -> None:
    from codeb_report.logs import get_logger

    with run_log(Path("/dev/full")) as log_file:
        get_logger("t").warning("nowhere to go")
    assert isinstance(log_file.failure, OSError)
    assert log_file.failure.strerror == "No space left on device"
    assert "Traceback" not in capfd.readouterr().err


FSIZE_RUN = """
import resource, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import test_output_paths as t
from codeb_report.logs import setup_stderr
from codeb_report.nightly.run import NightlyOptions, run_nightly

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, as ENOSPC would be
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
setup_stderr()

def render(snapshot, analysis, formats, out):
    big = out / "report.pdf"
    from codeb_report.atomic import write_output
    write_output(big, b"x" * 100_000)
    return [big]

sys.exit(int(run_nightly(NightlyOptions(Path(sys.argv[1])), t._collect, t._analyse, render)))
"""


def _main_entry(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``code`` as codeb-report's ``main`` would (its error handling, its exit codes)."""
    wrapper = (
        "import sys\nfrom codeb_report.errors import UserError\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.strip().splitlines()) + ""
        "except UserError as exc:\n    exc.show(); sys.exit(exc.exit_code)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", wrapper, *args], capture_output=True, text=True, timeout=120
    )


def test_a_file_size_limit_is_exit_8_in_one_line_naming_the_kept_folder(tmp_path: Path) -> None:
    root = tmp_path / "output"
    done = _main_entry(FSIZE_RUN, str(root), str(Path(__file__).parent), "20000")
    assert done.returncode == Exit.OUTPUT, done.stderr
    assert "Traceback" not in done.stderr
    failed = root / f".{today().isoformat()}.failed"
    assert done.stderr.splitlines()[-1] == (
        f"Error: {failed}/report.pdf: cannot write: File too large"
    )
    assert failed.is_dir() and (failed / "run.log").is_file()
    assert not (root / today().isoformat()).exists()


def _in_own_tmpfs(script: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """``script`` (sh) with a small tmpfs at $MNT, in a user and mount namespace: a real full
    disk without root. Skipped where the kernel allows no user namespaces."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) not installed")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no user namespaces here: {probe.stderr.decode().strip()}")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = {**os.environ, "MNT": str(mnt), "CLI": CLI}
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_a_full_disk_mid_run_is_exit_8_in_one_line(tmp_path: Path) -> None:
    done = _in_own_tmpfs(
        'mount -t tmpfs -o size=24k tmpfs "$MNT" || exit 99\n'
        '"$CLI" run --output-root "$MNT/out" -q; echo "rc=$?"\n'
        'ls -A "$MNT/out"\n',
        tmp_path,
    )
    assert "rc=8" in done.stdout, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    failed = f"{tmp_path}/mnt/out/.{today().isoformat()}.failed/"
    assert len(error) == 1 and error[0].startswith(f"Error: {failed}"), done.stderr
    assert error[0].endswith(": cannot write: No space left on device")
    assert f".{today().isoformat()}.failed" in done.stdout.split()


def test_a_disk_full_before_the_run_is_exit_8_in_one_line(tmp_path: Path) -> None:
    done = _in_own_tmpfs(
        'mount -t tmpfs -o size=8k tmpfs "$MNT" || exit 99\n'
        'mkdir "$MNT/out"; cat /dev/zero > "$MNT/fill" 2>/dev/null\n'
        '"$CLI" run --output-root "$MNT/out" -q; echo "rc=$?"\n',
        tmp_path,
    )
    assert "rc=8" in done.stdout, (done.stdout, done.stderr)
    assert done.stderr.splitlines() == [
        f"Error: {tmp_path}/mnt/out/.lock: cannot write the run lock: No space left on device"
    ]
