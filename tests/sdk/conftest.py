"""The unmodified sevenbridges-python SDK against a real `ferry serve`.

One server per session, on a fresh database: a SQLite file in a temporary directory, or, with
FERRY_TEST_BACKEND=postgres, a new schema on FERRY_TEST_POSTGRES_URL (dropped at the end).
File contents live in a local data directory, or, with FERRY_TEST_CONTENT=s3, under a fresh
prefix of the S3 server at FERRY_TEST_S3_ENDPOINT (the one ./scripts/test starts; its bucket
`ferry-test`, keys in FERRY_TEST_S3_ACCESS_KEY and FERRY_TEST_S3_SECRET_KEY).
Users come from `ferry user create` and files from `ferry import`, as an operator would make
them. At the end the server gets SIGTERM and must exit 0, and no token may appear in its log
(saved to target/sdk-tests/server-<backend>.log).
"""

import contextlib
import dataclasses
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import dxpy
import pytest
import sevenbridges as sbg

from seed import READS_FILES, ROOT_FILES

REPO = pathlib.Path(__file__).resolve().parents[2]
FERRY_BIN = os.environ.get("FERRY_BIN", str(REPO / "target" / "debug" / "ferry"))
BACKEND = os.environ.get("FERRY_TEST_BACKEND") or "sqlite"
CONTENT = os.environ.get("FERRY_TEST_CONTENT") or "local"
LOG_DIR = REPO / "target" / "sdk-tests"
STARTUP_DEADLINE_S = 30
# The server lets in-flight requests run for 30 s after SIGTERM.
SHUTDOWN_DEADLINE_S = 40



def psql(server_url, sql):
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", server_url, "-c", sql],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "sqlite":
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'ferry.db'}"
    elif BACKEND == "postgres":
        server = os.environ.get("FERRY_TEST_POSTGRES_URL")
        if not server:
            pytest.fail("FERRY_TEST_BACKEND=postgres needs FERRY_TEST_POSTGRES_URL")
        schema = f"test_sdk_{secrets.token_hex(8)}"
        psql(server, f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in server else "?"
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
        psql(server, f"DROP SCHEMA {schema} CASCADE")
    else:
        pytest.fail(f"FERRY_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class Ferry:
    """The running server, and the `ferry` command line against the same store."""

    base: str
    env: dict
    tokens: list = dataclasses.field(default_factory=list)

    def run(self, *args):
        done = subprocess.run(
            [FERRY_BIN, *args], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"ferry {' '.join(args)}: {done.stderr.strip()}"
        return done.stdout

    def create_user(self, username):
        token = self.run("user", "create", username).strip()
        self.tokens.append(token)
        return token

    def import_files(self, user, project_id, *paths, folder="/"):
        """`ferry import`; returns {path in the project: file id}."""
        out = self.run(
            "import", "--user", user, "--project", project_id, "--folder", folder, *map(str, paths)
        )
        lines = (line.split("\t") for line in out.splitlines())
        return {path: file_id for file_id, path in lines}

    def api(self, token):
        # debug=True: the SDK refuses plain http:// otherwise.
        return sbg.Api(url=f"{self.base}/v2", token=token, debug=True)


def wait_until_healthy(process, base, log_path):
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ferry serve exited with {process.returncode}: {log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:  # not listening yet (URLError and the connection errors are OSErrors)
            pass
        time.sleep(0.05)
    pytest.fail(f"ferry serve was not healthy within {STARTUP_DEADLINE_S} s")


@contextlib.contextmanager
def running_ferry(env, log_name):
    """`ferry serve` with `env` until the block ends; then SIGTERM, which must exit 0 with no
    token in the log (target/sdk-tests/<log_name>)."""
    port = free_port()
    env = {**env}
    env.pop("RUST_LOG", None)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / log_name
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [FERRY_BIN, "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, base, log_path)
        server = Ferry(base=base, env=env)
        yield server
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=SHUTDOWN_DEADLINE_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log_text = log_path.read_text()
    assert code == 0, f"ferry serve exited with {code}; log: {log_path}"
    leaked = [token for token in server.tokens if token in log_text]
    assert not leaked, f"{len(leaked)} token(s) appear in the server log {log_path}"


def content_store_env():
    """The server's environment for the content store under test."""
    if CONTENT == "local":
        return {}
    if CONTENT != "s3":
        pytest.fail(f"FERRY_TEST_CONTENT must be local or s3, not {CONTENT!r}")
    endpoint = os.environ.get("FERRY_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.fail("FERRY_TEST_CONTENT=s3 needs FERRY_TEST_S3_ENDPOINT (./scripts/test starts one)")
    return {
        "FERRY_CONTENT_STORE": f"s3://ferry-test/sdk-{secrets.token_hex(8)}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": os.environ["FERRY_TEST_S3_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": os.environ["FERRY_TEST_S3_SECRET_KEY"],
    }


@pytest.fixture(scope="session")
def ferry(database_url, tmp_path_factory):
    env = {
        **os.environ,
        "FERRY_DATABASE_URL": database_url,
        "FERRY_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "FERRY_HTTP_WORKERS": "4",
        # The session's tokens make every request of the suite within minutes; the rate limits
        # are tested on a server of their own (test_rate_limits.py).
        "FERRY_SBG_RATE_LIMIT": "1000000",
        "FERRY_DX_RATE_LIMIT": "1000000",
        **content_store_env(),
    }
    with running_ferry(env, f"server-{BACKEND}-{CONTENT}.log") as server:
        yield server


@pytest.fixture(scope="session")
def alice_token(ferry):
    return ferry.create_user("alice")


@pytest.fixture(scope="session")
def bob_token(ferry):
    return ferry.create_user("bob")


@pytest.fixture(scope="session")
def api(ferry, alice_token):
    return ferry.api(alice_token)


@pytest.fixture
def new_project(api):
    """Creates a project of alice's with a unique name, per call."""

    def create(label="Dest"):
        return api.projects.create(name=f"{label} {uuid.uuid4().hex[:8]}")

    return create


@pytest.fixture(scope="session")
def local_files(tmp_path_factory):
    """Writes {name: bytes} into a new local directory named `directory_name`; returns it."""

    def write(files, directory_name="files"):
        directory = tmp_path_factory.mktemp("local") / directory_name
        directory.mkdir()
        for name, contents in files.items():
            (directory / name).write_bytes(contents)
        return directory

    return write


@dataclasses.dataclass
class Source:
    """alice's seeded project: ROOT_FILES at the root, READS_FILES in the folder `reads`."""

    project: object
    # Path in the project ("/a.txt", "/reads/r1.fastq") -> file id, as `ferry import` printed.
    ids: dict


@pytest.fixture(scope="session")
def source(ferry, api, local_files):
    project = api.projects.create(name=f"SDK Source {uuid.uuid4().hex[:8]}")
    root_files = sorted(local_files(ROOT_FILES).iterdir())
    ids = ferry.import_files("alice", project.id, *root_files, local_files(READS_FILES, "reads"))
    assert sorted(ids) == sorted(
        [f"/{name}" for name in ROOT_FILES] + [f"/reads/{name}" for name in READS_FILES]
    )
    return Source(project=project, ids=ids)


# DNAnexus: dxpy and the `dx` CLI of the virtualenv.
DX = os.path.join(os.path.dirname(sys.executable), "dx")


@pytest.fixture(scope="session")
def dx_env(ferry, alice_token, tmp_path_factory):
    """dxpy pointed at the server as alice; returns the environment the `dx` CLI needs for the
    same (and no configuration from the home directory)."""
    host, port = ferry.base.removeprefix("http://").split(":")
    dxpy.set_api_server_info(host=host, port=port, protocol="http")
    context = {"auth_token_type": "Bearer", "auth_token": alice_token}
    dxpy.set_security_context(context)
    dxpy.set_workspace_id(None)
    return {
        **ferry.env,
        "DX_APISERVER_PROTOCOL": "http",
        "DX_APISERVER_HOST": host,
        "DX_APISERVER_PORT": port,
        "DX_SECURITY_CONTEXT": json.dumps(context),
        "DX_USER_CONF_DIR": str(tmp_path_factory.mktemp("dx-config")),
    }


@pytest.fixture(scope="session")
def as_bob(dx_env, bob_token):
    """Pass as `auth=as_bob` to call as bob."""
    return dxpy.DXHTTPOAuth2({"auth_token_type": "Bearer", "auth_token": bob_token})
