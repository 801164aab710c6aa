"""codeb-report: the CodeB infrastructure report, collected and written every night."""

__version__ = "0.1.0"
