"""The system probe's parse beyond the recorded outputs: CPU lists and head's headers."""

from __future__ import annotations

import pytest

from codeb_report.probes.system import SystemProbe, cpu_list_count, split_files


@pytest.mark.parametrize(
    ("text", "count"),
    [("0", 1), ("0-1", 2), ("0-3,6,8-9", 7), ("1-63", 63), ("0-1\n", 2)],
)
def test_online_cpu_list_is_counted(text: str, count: int) -> None:
    assert cpu_list_count(text) == count


@pytest.mark.parametrize("text", ["", "3-1", "0-a", "-1", "0,,2"])
def test_an_unreadable_cpu_list_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        cpu_list_count(text)


def test_a_files_text_cannot_add_a_header() -> None:
    """os-release is read last but one: a line in it looking like a header of another
    file does not replace that file's lines."""
    output = (
        "==> /proc/sys/kernel/hostname <==\nvm\n\n"
        "==> /etc/os-release <==\nNAME=x\n==> /proc/sys/kernel/hostname <==\nforged\n"
    )
    files = split_files(output)
    assert files["hostname"] == ["vm", ""]
    assert SystemProbe().parse(output).hostname == "vm"


def test_headers_of_other_files_are_text() -> None:
    output = "==> /proc/sys/kernel/hostname <==\nvm\n==> /etc/passwd <==\nroot:x:0:0\n"
    assert split_files(output) == {"hostname": ["vm", "==> /etc/passwd <==", "root:x:0:0"]}
