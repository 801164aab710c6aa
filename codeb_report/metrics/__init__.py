"""codeb-report's findings and figures as Prometheus metrics (node_exporter textfile).

    text = render(snapshot_families(snapshot, analysis, trends))   # any snapshot
    write_run_metrics(path, RunResult(...))                         # what ``run`` writes

docs/monitoring.md lists the metrics, the alert rules and the Grafana dashboard.
"""
