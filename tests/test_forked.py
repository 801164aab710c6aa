"""A forked child with pipes on its standard streams (render/forked.py), run in a fresh
interpreter each time: the test process may have threads, and a fork must not."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_megabytes_both_ways_and_on_error_without_a_deadlock() -> None:
    said = run(
        """
        import sys
        from codeb_report.render.forked import ForkedProcess
        def echo():
            data = sys.stdin.buffer.read()
            sys.stderr.buffer.write(b"e" * 3_000_000)  # far more than a pipe holds
            sys.stdout.buffer.write(data[::-1])
        child = ForkedProcess(echo)
        out, err = child.communicate(b"abc" * 1_000_000)
        print(out == b"cba" * 1_000_000, len(err), child.returncode)
        """
    )
    assert said == ["True 3000000 0"]


def test_a_child_that_raises_ends_with_status_1_and_never_returns_here() -> None:
    said = run(
        """
        from codeb_report.render.forked import ForkedProcess
        def fail():
            raise ValueError("broken")
        child = ForkedProcess(fail)
        out, err = child.communicate()
        print(child.returncode, b"ValueError: broken" in err)
        """
    )
    assert said == ["1 True"]  # printed once: by this process, not again by the child


def test_kill_and_poll() -> None:
    said = run(
        """
        import time
        from codeb_report.render.forked import ForkedProcess
        child = ForkedProcess(lambda: time.sleep(60))
        print(child.poll())
        child.kill()
        child.communicate()
        print(child.returncode, child.poll())
        """
    )
    assert said == ["None", "-9 -9"]


def test_a_child_gone_before_its_input_is_written_is_no_error() -> None:
    said = run(
        """
        from codeb_report.render.forked import ForkedProcess
        child = ForkedProcess(lambda: None)
        out, err = child.communicate(b"x" * 5_000_000)
        print(child.returncode, out, err)
        """
    )
    assert said == ["0 b'' b''"]
