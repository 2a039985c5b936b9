"""Triad: a GitHub App that runs a three-role LLM workflow with human gates."""
