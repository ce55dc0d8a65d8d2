"""Hostile HTTP input against a real API process: schemathesis over the OpenAPI document, oversized and
deeply nested bodies, huge numbers, unicode names, slow senders. Always a bounded 4xx or a timeout,
never a 5xx and never a stuck worker."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.api import ApiProcess
from tests.support.iris import IRIS_ROW
from tests.support.services import MlflowServer, embedded_mlflow
from tests.support.trainer import train_model

pytestmark = pytest.mark.integration

API_KEY = "hostile-input-test-key-0123456789"
BODY_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    """One worker (the hardest case to keep unstuck) serving an iris model, with an API key."""
    root = tmp_path_factory.mktemp("hostile")
    server: MlflowServer = embedded_mlflow(root / "mlflow")
    server.start()
    train_model(server.uri, root, model_name="hostile")
    process = ApiProcess(
        root, server.uri, "hostile", workers=1,
        env={"MLSTACK_API_KEY": API_KEY, "MLSTACK_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_S)},
    ).start()  # fmt: skip
    process.wait_ready()
    yield process
    process.stop()
    server.stop()


def _predict(api: ApiProcess, body: bytes, **headers: str) -> requests.Response:
    return requests.post(
        f"{api.url}/v1/predict",
        data=body,
        headers={"Content-Type": "application/json", "X-API-Key": API_KEY, **headers},
        timeout=30,
    )


def _still_serving(api: ApiProcess) -> None:
    response = _predict(api, json.dumps({"inputs": IRIS_ROW}).encode())
    assert response.status_code == 200, response.text


def test_schemathesis_finds_no_server_error(api: ApiProcess, tmp_path: Path) -> None:
    report = tmp_path / "schemathesis.json"
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")), "run", f"{api.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--max-examples", "1000",
            "--include-path", "/v1/predict",
            "--seed", "20261125",
            "--header", f"X-API-Key: {API_KEY}",
            "--request-timeout", "10",
            "--suppress-health-check", "all",
            "--no-color",
            "--report", "ndjson", "--report-ndjson-path", str(report),
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-4000:]
    cases = sum(int(n) for n in re.findall(r"(\d+) generated", output))
    assert cases >= 1000, f"schemathesis generated only {cases} cases:\n{output[-2000:]}"
    _still_serving(api)


def test_oversized_bodies_are_refused_without_being_buffered(api: ApiProcess) -> None:
    big = b'{"instances": [' + b'{"a": 1},' * 600_000 + b'{"a": 1}]}'  # ~5.4 MB > 4 MiB
    declared = _predict(api, big)
    assert declared.status_code == 413
    assert declared.json()["error"]["field"] == "body"
    streamed = _predict(api, iter([big[i : i + 65536] for i in range(0, len(big), 65536)]))  # chunked
    assert streamed.status_code == 413
    _still_serving(api)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, id="nested-100k"),
        pytest.param(
            b'{"inputs": {"a": ' + b'{"b": ' * 5000 + b"1" + b"}" * 5001 + b"}", 400, id="nested-objects"
        ),
        pytest.param(b'{"inputs": {"sepal length (cm)": 1' + b"0" * 400 + b"}}", None, id="huge-integer"),
        pytest.param(b'{"inputs": {"sepal length (cm)": 1e400}}', None, id="float-overflow"),
        pytest.param('{"inputs": {"sépal ☃ length": 1.0}}'.encode(), 422, id="unicode-name"),
        pytest.param(b'{"inputs": {"\\ud800": 1.0}}', None, id="lone-surrogate"),
        pytest.param(b'{"inputs": {"' + "名".encode() * 50_000 + b'": 1}}', 422, id="long-unicode-name"),
        pytest.param(b"\xff\xfe{\x00", 400, id="not-utf8"),
    ],
)
def test_pathological_json_gets_a_4xx(api: ApiProcess, body: bytes, status: int | None) -> None:
    response = _predict(api, body)
    if status is None:
        assert 400 <= response.status_code < 500, response.text[:500]
    else:
        assert response.status_code == status, response.text[:500]
    error = response.json()["error"]
    assert error["message"] and len(response.content) < 2000, "the error must be short and say what is wrong"
    _still_serving(api)


def _connect(api: ApiProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", api.port), timeout=30)


def test_a_slow_body_gets_408_and_nobody_else_waits(api: ApiProcess) -> None:
    slow = _connect(api)
    slow.sendall(
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-API-Key: {API_KEY}\r\nContent-Length: 1000\r\n\r\n".encode()
    )
    answer: list[bytes] = []

    def trickle() -> None:
        try:
            for _ in range(40):  # one byte every 0.25 s: ten seconds to send 40 of the 1000 bytes
                slow.sendall(b" ")
                time.sleep(0.25)
        except OSError:
            pass  # the server answered and closed: what we want

    def read() -> None:
        while chunk := slow.recv(65536):  # until the server closes the connection
            answer.append(chunk)

    sender, reader = threading.Thread(target=trickle), threading.Thread(target=read)
    started = time.monotonic()
    sender.start()
    reader.start()
    for _ in range(20):  # meanwhile the single worker keeps answering everyone else
        _still_serving(api)
    reader.join(timeout=30)
    waited = time.monotonic() - started
    sender.join(timeout=30)
    slow.close()
    response = b"".join(answer)
    assert response.startswith(b"HTTP/1.1 408"), response
    assert b"not received within 2s" in response
    assert waited < 20, f"the slow body held its request for {waited:.1f}s"


def test_many_slow_header_connections_do_not_stall_the_worker(api: ApiProcess) -> None:
    idle = []
    for _ in range(100):
        connection = _connect(api)
        connection.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nX-Partial: ")  # never finished
        idle.append(connection)
    try:
        for _ in range(20):
            _still_serving(api)
        assert requests.get(f"{api.url}/healthz", timeout=5).status_code == 200
    finally:
        for connection in idle:
            connection.close()
    _still_serving(api)
