"""The votes' own rates; the limiter itself is shared (shipwith.core.limits)."""

from shipwith.core.limits import client_ip, limit_exceeded, rate_setting

__all__ = ["client_ip", "limit_exceeded", "ip_rate", "voter_rate"]


def voter_rate() -> tuple[int, int]:
    return rate_setting("SHIPWITH_VOTES_RATE_VOTER", "30/m")


def ip_rate() -> tuple[int, int]:
    return rate_setting("SHIPWITH_VOTES_RATE_IP", "300/m")
