"""The trainer's and the API's own MLflow basic-auth users, written straight into the auth database.

`python -m mlstack.db_migrate --auth-database NAME` calls this after migrating that database, in
the MLflow pod's init container: the users exist before the server answers its first request, so a
trainer Job or API pod started alongside never meets a 401. Each user named in MLSTACK_AUTH_USERS
("trainer,api") gets the password in MLSTACK_AUTH_PASSWORD_<NAME>: created if missing, reset if it
exists, so a rotated Secret takes effect at the next rollout. The admin user is MLflow's own
(MLFLOW_AUTH_ADMIN_USERNAME/PASSWORD). Passwords never appear in arguments or logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

logger = logging.getLogger("mlstack.auth_users")


def wanted_users(environ: Mapping[str, str]) -> dict[str, str]:
    """{username: password} from MLSTACK_AUTH_USERS and MLSTACK_AUTH_PASSWORD_<NAME>; {} if none named."""
    users = {}
    for name in filter(None, (part.strip() for part in environ.get("MLSTACK_AUTH_USERS", "").split(","))):
        variable = f"MLSTACK_AUTH_PASSWORD_{name.upper().replace('-', '_')}"
        password = environ.get(variable, "")
        if not password:
            raise ValueError(f"{variable} is empty: user {name!r} needs a password")
        users[name] = password
    return users


def ensure_users(auth_db_uri: str, users: Mapping[str, str]) -> None:
    """Create each user, or set its password if it exists (never an admin)."""
    from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore()
    store.init_db(auth_db_uri)
    try:
        for name, password in users.items():
            if store.has_user(name, use_primary=True):
                store.update_user(name, password=password)
                logger.info("auth user exists; password set from its Secret", extra={"user": name})
            else:
                store.create_user(name, password)
                logger.info("auth user created", extra={"user": name})
    finally:
        store.engine.dispose()
