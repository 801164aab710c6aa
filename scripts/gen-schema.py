#!/usr/bin/env python3
"""Write docs/snapshot.schema.json from the snapshot model (run after changing the model)."""

from pathlib import Path

from codeb_report.snapshot import json_schema

target = Path(__file__).resolve().parent.parent / "docs" / "snapshot.schema.json"
target.write_text(json_schema(), encoding="utf-8")
print(target)
