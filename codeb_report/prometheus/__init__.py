"""Prometheus as a source: node_exporter figures for the whole fleet and their history.

``settings`` holds the ``[prometheus]`` table, ``matchers`` the label matchers that tie a
server to its series, ``client`` the HTTP API, ``collect`` the instant queries that fill
a snapshot, ``discover`` the servers found by a selector and ``history`` the range
queries behind the trends. Only ``settings`` and ``matchers`` are imported when a
configuration is read; httpx is imported when Prometheus is first asked.
"""
