"""Prompt files, layout v1."""
