"""Prompt files, layout v2: v1 with the tool's facts table."""
