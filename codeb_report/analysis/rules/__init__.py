"""The rules, one small module per subject.

Importing a module registers its rules; MODULES fixes that order explicitly, because it is
the order rules run in and breaks ties between findings of one priority in section 5.
"""

from __future__ import annotations

import importlib

from codeb_report.analysis.rules.base import FLEET, RULES, Hit, Rule, rule

MODULES = (
    "server",
    "figures",
    "watched",
    "services",
    "backup",
    "centrifugo",
    "databases",
    "fleet",
    "provider",
    "prometheus",
)

for _module in MODULES:
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["FLEET", "RULES", "Hit", "Rule", "rule"]
