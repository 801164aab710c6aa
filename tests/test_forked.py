"""A forked child with pipes on its standard streams (render/forked.py), run in a fresh
interpreter each time: the test process may have threads, and a fork must not."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> list[str]:
    """Lines printed by ``code`` run by a new interpreter (never a fork of the tests)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
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


def test_the_child_ends_when_this_process_is_killed_alone(tmp_path) -> None:
    import os
    import time

    said = run(
        """
        import os, subprocess, sys, time
        code = (
            "import os, time\\n"
            "from codeb_report.render.forked import ForkedProcess\\n"
            "child = ForkedProcess(lambda: time.sleep(60))\\n"
            "print(child.pid, flush=True)\\n"
            "time.sleep(60)\\n"
        )
        parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        pid = int(parent.stdout.readline())
        parent.kill()  # SIGKILL to the parent alone: no handler of ours runs
        parent.wait()
        print(pid)
        """
    )
    child = int(said[0])
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the child {child} outlived its parent")


def test_an_interrupted_communicate_can_be_called_again_without_closing_others() -> None:
    said = run(
        """
        import os, signal, sys, time
        from codeb_report.render.forked import ForkedProcess
        def half():
            os.close(1)  # its output ends first, its error only later
            time.sleep(1)
        child = ForkedProcess(half)
        def interrupt(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGALRM, interrupt)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            child.communicate()
        except KeyboardInterrupt:
            print("interrupted")
        other = os.open("/dev/null", os.O_RDONLY)  # may take the number just freed
        child.kill()
        out, err = child.communicate()
        os.fstat(other)  # still open: the second call closed only the child's pipes
        print(child.returncode)
        """
    )
    assert said == ["interrupted", "-9"]


def test_a_failed_fork_leaves_no_descriptor_open() -> None:
    said = run(
        """
        import os
        from codeb_report.render.forked import ForkedProcess
        before = len(os.listdir("/proc/self/fd"))
        def refuse():
            raise BlockingIOError(11, "Resource temporarily unavailable")
        os.fork = refuse
        try:
            ForkedProcess(lambda: None)
        except OSError:
            print("refused")
        print(len(os.listdir("/proc/self/fd")) - before)
        """
    )
    assert said == ["refused", "0"]


def test_an_ignored_interrupt_stays_ignored_in_the_child() -> None:
    said = run(
        """
        import signal, sys
        from codeb_report.render.forked import ForkedProcess
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job of a script
        def report():
            sys.stdout.write(str(signal.getsignal(signal.SIGINT) is signal.SIG_IGN))
        out, _ = ForkedProcess(report).communicate()
        print(out.decode())
        """
    )
    assert said == ["True"]


def test_closed_standard_streams_at_start_still_give_the_child_its_pipes() -> None:
    said = run(
        """
        import os, sys
        from codeb_report.render.forked import ForkedProcess
        os.close(0)
        os.close(2)  # the pipes now take these numbers in this process
        def echo():
            sys.stdout.buffer.write(sys.stdin.buffer.read().upper())
            sys.stderr.write("said")
        out, err = ForkedProcess(echo).communicate(b"page")
        print(out.decode(), err.decode())
        """
    )
    assert said == ["PAGE said"]
