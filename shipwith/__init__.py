"""shipwith: which AI tool should I ship with?"""

__version__ = "0.1.0"
