"""Triad's lab: the GitHub simulator, the fake model server, the end-to-end stack and the demo.

It ships in the same distribution as `bot` but beside it: `bot` never imports it (a test checks),
the CLI imports it lazily, and the production image leaves it out unless asked.
"""
