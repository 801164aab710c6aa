"""The cloud provider part of codeb-report: the Vultr account, read through its API."""
