"""The mlstack serving API: serves `models:/NAME@ALIAS`, follows the alias, validates every input.

Start it with `python -m api`, or give uvicorn the factory `api.app:create_app_from_env`.
"""
