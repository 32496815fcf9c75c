"""The moderator's prompt files, layout v2."""
