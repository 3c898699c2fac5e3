"""pytest fixtures for the stand-in: one server per session, state reset per test.

Use from a ``conftest.py``: ``from standin.pytest_plugin import standin, standin_env, standin_server``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from standin.server import StandIn


@pytest.fixture(scope="session")
def standin_server() -> Iterator[StandIn]:
    """The stand-in, started once for the test session (state is shared: prefer ``standin``).

    It runs nothing until a test installs the runtime (``standin.runtime.install``), so that pipelines other
    tests create stay still."""
    with StandIn(region="us-east-1", runtime=False) as server:
        yield server


@pytest.fixture
def standin(standin_server: StandIn) -> Iterator[StandIn]:
    """The session's stand-in with every piece of state forgotten (moto, our stores, git repositories)."""
    standin_server.reset()
    yield standin_server


@pytest.fixture
def standin_env(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """``os.environ`` pointed at the stand-in (away from any real AWS profile); returns the variables set."""
    isolated = tmp_path_factory.mktemp("aws-config")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    env = dict(standin.env)
    env["AWS_CONFIG_FILE"] = str(isolated / "config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(isolated / "credentials")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
