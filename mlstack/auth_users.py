"""`python -m mlstack.auth_users`: make MLflow basic auth know the trainer's and the API's own users.

The chart runs it as a hook Job with the admin's credentials (MLFLOW_TRACKING_USERNAME/PASSWORD) after
every install and upgrade. Each user named in MLSTACK_AUTH_USERS ("trainer,api") gets the password
in MLSTACK_AUTH_PASSWORD_<NAME>: created if missing, its password reset if it exists, so a rotated
Secret takes effect on the next upgrade. Passwords never appear in arguments or logs.
"""

from __future__ import annotations

import logging
import os
import sys

from mlflow.exceptions import MlflowException
from mlflow.server.auth.client import AuthServiceClient

from mlstack.logs import configure_logging
from mlstack.registry import Registry
from mlstack.retry import DependencyUnavailable

logger = logging.getLogger("mlstack.auth_users")


def wanted_users(environ: dict[str, str]) -> dict[str, str]:
    """{username: password} from MLSTACK_AUTH_USERS and MLSTACK_AUTH_PASSWORD_<NAME>."""
    users = {}
    for name in filter(None, (part.strip() for part in environ.get("MLSTACK_AUTH_USERS", "").split(","))):
        variable = f"MLSTACK_AUTH_PASSWORD_{name.upper().replace('-', '_')}"
        password = environ.get(variable, "")
        if not password:
            raise ValueError(f"{variable} is empty: user {name!r} needs a password")
        users[name] = password
    if not users:
        raise ValueError("MLSTACK_AUTH_USERS names no user")
    return users


def ensure_users(client: AuthServiceClient, users: dict[str, str]) -> None:
    for name, password in users.items():
        try:
            client.create_user(name, password)
            logger.info("created user", extra={"user": name})
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            client.update_user_password(name, password)
            logger.info("user exists; password set from its Secret", extra={"user": name})


def main() -> int:
    configure_logging(os.environ.get("MLSTACK_LOG_LEVEL", "INFO"))
    try:
        users = wanted_users(dict(os.environ))
    except ValueError as exc:
        logger.error(str(exc))
        return 2
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not tracking_uri.startswith(("http://", "https://")):
        logger.error("MLFLOW_TRACKING_URI must be the MLflow server's http(s) URL")
        return 2
    try:
        Registry(tracking_uri).wait_until_reachable(float(os.environ.get("MLSTACK_MLFLOW_WAIT_SECONDS", "300")))
        ensure_users(AuthServiceClient(tracking_uri), users)
    except DependencyUnavailable as exc:
        logger.error(str(exc))
        return 1
    except MlflowException as exc:
        logger.error("MLflow refused a user change: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
