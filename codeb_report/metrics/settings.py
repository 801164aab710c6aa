"""The ``[metrics]`` section: where ``run`` writes its metrics for node_exporter."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class MetricsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A *.prom file in node_exporter's --collector.textfile.directory, e.g.
    # /var/lib/prometheus/node-exporter/codeb_report.prom; unset writes none.
    textfile: str | None = None

    @field_validator("textfile")
    @classmethod
    def _prom_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.rstrip("/").rsplit("/", 1)[-1]
        if not name.endswith(".prom") or name.startswith("."):
            raise ValueError(f"{value!r}: node_exporter reads only files named *.prom (not hidden)")
        return value
