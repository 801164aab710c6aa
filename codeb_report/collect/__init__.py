"""Collecting servers into a snapshot: command runners and the probe batch."""
