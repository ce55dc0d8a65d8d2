"""Errors the trainer reports as one line and exit code 2: the input was wrong, nothing was logged."""


class InputError(ValueError):
    """Bad input (data, configuration or flags), detected before any MLflow run is created."""
