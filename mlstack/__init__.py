"""Code shared by the trainer and the API: registry look-ups, retry on connect, logging."""

__version__ = "0.1.0"
