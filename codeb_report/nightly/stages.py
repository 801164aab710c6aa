"""The nightly run's analyse and render stages, with the history sections added.

Analysing also reads the stored history, diffs against the most recent earlier snapshot
and adds the disk-full forecasts to the findings; rendering hands that history, a view,
to the renderer.

    stages = NightlyHistory(output_root, analyse=lambda s: analyse(s, thresholds))
    run_nightly(options, collect, stages.analyse, stages.render)
    stages.history.summary  # Korean lines for the mail body, most important first
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from codeb_report.analysis.model import Analysis
from codeb_report.history.compare import Analyse, Judge
from codeb_report.history.section import (
    HistoryReport,
    PastNights,
    build_history,
    with_findings,
)
from codeb_report.history.settings import DiffSettings, TrendSettings
from codeb_report.history.trends import TrendSource
from codeb_report.logs import get_logger
from codeb_report.snapshot import Snapshot

if TYPE_CHECKING:
    from codeb_report.config import Config

Render = Callable[..., list[Path]]
log = get_logger("history")


@dataclass
class NightlyHistory:
    """The run's analyse and render stages with the history sections added.

    A history that cannot be built (a bug, an unreadable output folder) is logged and the
    report goes out without its sections: the past never costs tonight's report.
    """

    output_root: Path
    analyse_only: Analyse
    day: date | None = None
    diff_settings: DiffSettings | None = None
    trend_settings: TrendSettings | None = None
    render_only: Render | None = None  # default: codeb_report.render.render_report
    zone: tzinfo | None = None  # the report's time zone (default Asia/Seoul)
    trend_source: TrendSource | None = None  # default: the stored snapshots
    history: HistoryReport | None = None
    # Tonight's snapshot only (earlier nights use analyse_only): it may read the history
    # itself, e.g. the provider view's right-sizing from the highest use over it.
    analyse_tonight: Analyse | None = None
    # The findings analyse_only gives, alone: judging the nights before (default: its own).
    judge_only: Judge | None = None
    # The stored nights before ``day``, when analyse_tonight reads them too: loaded once.
    nights: PastNights | None = None

    def analyse(self, snapshot: Snapshot) -> Analysis:
        analysis = (self.analyse_tonight or self.analyse_only)(snapshot)
        try:
            self.history = build_history(
                snapshot,
                analysis,
                self.output_root,
                self.analyse_only,
                self.day,
                self.diff_settings,
                self.trend_settings,
                self.zone,
                source=self.trend_source,
                judge=self.judge_only,
                nights=self.nights,
            )
        except Exception as exc:  # see the class docstring
            log.error("history sections left out: %s", exc)
            self.history = None
            return analysis
        # The scaling advice weighs the highest use over the same history the trends show.
        from codeb_report.analysis import with_trends

        analysis = with_trends(analysis, snapshot, self.history.trends)
        return with_findings(analysis, self.history.forecasts)

    def render(
        self, snapshot: Snapshot, analysis: Analysis, formats: list[str], out_dir: Path
    ) -> list[Path]:
        render = self.render_only
        if render is None:
            from codeb_report.render import render_report as render
        return render(snapshot, analysis, formats, out_dir, history=self.history)


def night_of(config: Config | None, output_root: Path, day: date) -> NightlyHistory:
    """The stages of the report of ``day`` as ``run`` has them: the configuration's
    thresholds, diff and trend settings, time zone and descriptions, and the history
    stored under ``output_root`` before ``day``.

    ``run`` writes and mails the report with them; ``send`` and ``metrics`` judge a stored
    day with them again, so they say what the run said (disk forecasts included).
    """
    from codeb_report.analysis import analyse, findings
    from codeb_report.prometheus.sources import trend_source
    from codeb_report.render import RenderOptions, render_report

    thresholds = config.report.thresholds if config else None
    headroom = config.vultr.headroom_percent if config and config.vultr else None
    trend_settings = config.trends if config else None
    nights = PastNights(output_root, day, trend_settings or TrendSettings())

    def analyse_tonight(snapshot: Snapshot) -> Analysis:
        """Right-sizing reads the highest use over the history the trends read."""
        past = []
        if snapshot.provider is not None:
            past = [one for _, one in nights.load()[0]]
        return analyse(snapshot, thresholds, history=past, headroom=headroom)

    return NightlyHistory(
        output_root,
        lambda snapshot: analyse(snapshot, thresholds, headroom=headroom),
        analyse_tonight=analyse_tonight,
        judge_only=lambda snapshot: findings(snapshot, thresholds, headroom=headroom),
        nights=nights,
        day=day,
        diff_settings=config.diff if config else None,
        trend_settings=config.trends if config else None,
        # The configuration's title, time zone and port/unit/container descriptions.
        render_only=partial(render_report, options=RenderOptions.from_config(config))
        if config
        else render_report,
        zone=config.report.zone() if config else None,
        # 리소스 추세 from Prometheus' range queries when [prometheus] is configured.
        trend_source=trend_source(config) if config else None,
    )
