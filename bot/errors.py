"""Triad's exception hierarchy: every failure a user or operator can meet has a named type."""

from __future__ import annotations


class TriadError(Exception):
    """Base of every error Triad raises on purpose."""


class ConfigError(TriadError):
    """A setting or configuration file is missing or malformed; the message names it."""


class StoreError(TriadError):
    """The store could not do what was asked (unreachable, schema too new, ...)."""


class GitHubError(TriadError):
    """A GitHub API call failed in a way the caller must handle."""


class ModelError(TriadError):
    """A model call failed after its retries, or its output never fit the schema."""


class PermanentJobError(TriadError):
    """Retrying cannot help (bad payload, missing record): the job is dead-lettered at once."""
