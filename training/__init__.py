"""The mlstack trainer: load a dataset, fit a pipeline, log it to MLflow, register it, gate promotion.

Run it as `python -m training --help`.
"""
