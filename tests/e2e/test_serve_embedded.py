"""`nudge serve` on the embedded default: its own redis-server, SQLite and secrets under var/."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.support.served_nudge import NUDGE, ServedNudge

KEY = r"secret key:\s+(\S+)"
EMBEDDED_PORT = r"embedded redis-server on redis://127\.0\.0\.1:(\d+)"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_until_ready(http: httpx.Client, timeout: float = 10) -> None:
    """Poll /readyz (nothing announces it) until it answers 200, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while (answer := http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"/readyz did not become ready: {answer.text}"
        time.sleep(0.1)


def test_serve_runs_the_readme_walkthrough_on_the_embedded_default(served: ServedNudge) -> None:
    served.start()
    key = served.wait_for(KEY)
    assert served.wait_for(r"(export NUDGE_URL=\S+)") == f"export NUDGE_URL={served.url}"
    with served.client(key) as http:
        assert http.get("/readyz").status_code == 200
        assert http.put("/v1/accounts/acme", json={"plan": "free"}).status_code == 200
        posted = http.post(
            "/v1/usage",
            json={
                "events": [
                    {"id": "s3", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
                ]
            },
        )
        assert posted.json() == {"accepted": 1, "duplicates": 0}
        prompts = http.get("/v1/prompts", params={"account_id": "acme"}).json()["prompts"]
        assert [p["trigger"] for p in prompts] == ["seats-full"]
        dismissed = http.post(f"/v1/prompts/{prompts[0]['id']}/events", json={"type": "dismissed"})
        assert dismissed.status_code == 202
        assert http.get("/v1/prompts", params={"account_id": "acme"}).json()["prompts"] == []
    assert (served.workdir / "var" / "nudge.db").exists()
    assert (served.workdir / "var" / "redis" / "appendonlydir").is_dir()


def test_generated_key_is_printed_once_and_never_logged(served: ServedNudge) -> None:
    served.start()
    key = served.wait_for(KEY)
    with served.client(key) as http:
        http.get("/v1/prompts", params={"account_id": "acme"})
    served.stop()
    assert served.output.count(key) == 2  # the key line and the export line of the banner


def test_usage_survives_a_restart_and_the_embedded_redis_stops_with_the_service(
    served: ServedNudge,
) -> None:
    served.start()
    key = served.wait_for(KEY)
    redis_port = int(served.wait_for(EMBEDDED_PORT))
    with served.client(key) as http:
        http.post(
            "/v1/usage",
            json={
                "events": [{"id": "a1", "account_id": "acme", "metric": "api_calls", "value": 42}]
            },
        )
    assert served.stop() == 0
    assert not _listening(redis_port)

    served.start()
    key = served.wait_for(KEY)
    with served.client(key) as http:
        usage = http.get("/v1/accounts/acme").json()["usage"]
        assert usage["api_calls"]["value"] == 42
        again = http.post(
            "/v1/usage",
            json={
                "events": [{"id": "a1", "account_id": "acme", "metric": "api_calls", "value": 42}]
            },
        )
        assert again.json() == {"accepted": 0, "duplicates": 1}


def test_serve_refuses_broken_rules_and_names_file_and_line(served: ServedNudge) -> None:
    broken = served.workdir / "rules" / "core.yaml"
    broken.write_text(broken.read_text().replace("threshold: 100%", "threshhold: 100%"))
    result = subprocess.run(
        [*NUDGE, "serve", "--port", str(served.port)],
        cwd=served.workdir,
        env=served.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "core.yaml:" in result.stderr
    assert 'unknown key "threshhold"; did you mean "threshold"?' in result.stderr


def test_redis_url_without_keys_is_a_startup_error(served: ServedNudge) -> None:
    env = {**served.env, "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [*NUDGE, "serve", "--port", str(served.port)],
        cwd=served.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "NUDGE_API_KEYS and NUDGE_SIGNING_SECRET must be set when REDIS_URL is set" in (
        result.stderr
    )


def test_plain_uvicorn_serves_the_same_app(served: ServedNudge) -> None:
    served.start(
        command=[sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(served.port)]
    )
    key = served.wait_for(KEY)
    with served.client(key) as http:
        assert http.get("/readyz").json()["status"] == "ready"
        assert http.get("/v1/rules").json()["default_plan"] == "free"


def test_a_configured_key_is_never_printed_only_what_was_generated(served: ServedNudge) -> None:
    served.env["NUDGE_API_KEYS"] = "configured-key-not-to-be-printed"
    served.start()
    assert served.wait_for(r"signing secret:\s+(\S+)")
    with served.client("configured-key-not-to-be-printed") as http:
        assert http.get("/v1/rules").status_code == 200
    served.stop()
    output = served.output
    assert "configured-key-not-to-be-printed" not in output
    assert "secret key:" not in output


def test_a_dead_embedded_redis_is_restarted_and_no_acknowledged_usage_is_lost(
    served: ServedNudge,
) -> None:
    served.start()
    key = served.wait_for(KEY)
    redis_port = int(served.wait_for(EMBEDDED_PORT))
    usage = {"events": [{"id": "a1", "account_id": "acme", "metric": "api_calls", "value": 5}]}
    with served.client(key) as http:
        assert http.post("/v1/usage", json=usage).status_code == 202
        pid = int(
            subprocess.run(
                ["pgrep", "-f", f"redis-server 127.0.0.1:{redis_port}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[0]
        )
        # No wait: Redis writes the append-only file before it answers, so a crash of the
        # process (not of the host) loses nothing it acknowledged.
        os.kill(pid, signal.SIGKILL)

        served.wait_for(r"the embedded redis-server exited \(code -9\) and was restarted")
        _wait_until_ready(http)
        assert http.get("/v1/accounts/acme").json()["usage"]["api_calls"]["value"] == 5
        retried = http.post("/v1/usage", json=usage)
        assert retried.json() == {"accepted": 0, "duplicates": 1}
