"""API settings from MLSTACK_* environment variables (and MLflow's own MLFLOW_TRACKING_URI)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# An API key shorter than this is refused at start: it would be guessable.
MIN_API_KEY_LENGTH = 16


def cpu_limit() -> int:
    """Worker count default: the container's CPU quota (cgroup v2 or v1) if set, else the CPUs we may use."""
    for quota_file, period_file in (
        ("/sys/fs/cgroup/cpu.max", None),
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
    ):
        try:
            text = Path(quota_file).read_text().split()
            if period_file is None:
                quota, period = text[0], text[1]
            else:
                quota, period = text[0], Path(period_file).read_text().strip()
        except (OSError, IndexError):
            continue
        if quota not in ("max", "-1"):
            return max(1, int(int(quota) // int(period)))
    return max(1, len(os.sched_getaffinity(0)))


class ApiSettings(BaseSettings):
    """Everything the serving process reads from its environment, once, at start."""

    model_config = SettingsConfigDict(
        env_prefix="MLSTACK_",
        extra="ignore",
        protected_namespaces=(),
        use_attribute_docstrings=True,
        populate_by_name=True,
    )

    model_name: str = Field(min_length=1)
    """Registered model to serve (required)."""
    model_alias: str = "production"
    """Registry alias that means Production; the API serves the version behind it."""
    tracking_uri: str | None = Field(default=None, validation_alias="MLFLOW_TRACKING_URI")
    """MLflow tracking server (MLflow's own variable)."""
    refresh_seconds: float = Field(default=10.0, gt=0)
    """How often to re-resolve the alias."""
    max_batch: int = Field(default=1000, ge=1)
    """Most records one /v1/predict request may carry (413 above)."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Largest request body accepted (413 above)."""
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    """Longest time to receive a request body (408 after), so slow senders cannot pin requests."""
    large_body_bytes: int = Field(default=64 * 1024, ge=0)
    """Bodies above this size (or of unknown size) wait for a large-body slot before being read."""
    large_body_slots: int = Field(default=2, ge=1)
    """How many large bodies one worker reads, parses and predicts at once (memory stays bounded)."""
    micro_batching: bool = True
    """Predict concurrent small requests in one model call (see api/batching.py)."""
    micro_batch_wait_ms: float = Field(default=0.0, ge=0.0, le=100.0)
    """Extra time the first request of a micro-batch waits for company (0: none beyond one loop turn)."""
    micro_batch_max_rows: int = Field(default=512, ge=1)
    """Most rows one coalesced model call predicts."""
    api_key: str | None = None
    """If set, /v1/* requires it in the X-API-Key header; health and metrics stay open."""
    host: str = "127.0.0.1"
    """Bind address (the chart sets 0.0.0.0)."""
    port: int = Field(default=8080, ge=1, le=65535)
    """Bind port."""
    workers: int = Field(default_factory=cpu_limit, ge=1)
    """Worker processes; defaults to the CPU limit."""
    log_level: str = "INFO"
    """Log level; one JSON line per record."""
    log_sample_rate: int = Field(default=100, ge=0)
    """Log one prediction in N at INFO (all at DEBUG); 0 turns the sampled lines off."""
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    """How long SIGTERM waits for in-flight requests before the process exits."""
    model_cache_dir: Path = Field(default_factory=lambda: Path(tempfile.gettempdir()) / "mlstack-models")
    """Where model artifacts are downloaded before loading (deleted after the load)."""
    registry_timeout_seconds: float = Field(default=5.0, gt=0)
    """Timeout of one registry call, so a hung MLflow is noticed within a refresh."""
    max_backoff_seconds: float = Field(default=60.0, gt=0)
    """Longest wait between refreshes after failures."""
    startup_load_seconds: float = Field(default=60.0, ge=0)
    """How long a starting worker tries to load the model before it accepts connections, so a worker
    uvicorn restarts never answers 503 beside a sibling that serves (0: accept at once)."""

    @field_validator("api_key")
    @classmethod
    def _refuse_weak_key(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) < MIN_API_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_API_KEY_LENGTH} characters")
        return value
