"""Start the demo: the Nudge service and Plotline's backend side by side; Ctrl-C stops both.

    .venv/bin/python examples/webapp/run.py [--nudge-port 8000] [--port NUDGE_PORT+1]

The service runs on the embedded default (its own redis-server and SQLite under
--data-dir), or on REDIS_URL / DATABASE_URL when they are set, with the rules in
NUDGE_RULES_DIR (default: the repository's rules/). It allows the demo's origin in
NUDGE_CORS_ORIGINS, so the page can ask it for prompts with a client token.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
READY_TIMEOUT = 60.0  # seconds for the service to answer /readyz (it may start a redis-server)
STOP_TIMEOUT = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.port is None:  # next to the service's, so `make demo PORT=...` moves both
        if args.nudge_port == 65535:
            parser.error("--nudge-port 65535 leaves no port after it for the demo; pass --port")
        args.port = args.nudge_port + 1
    missing = _missing_packages()
    if missing:
        print(
            f"run.py: {', '.join(missing)} not installed here; run `make demo`, which installs "
            "them into .venv, or use a Python where `pip install -e . -e sdk/python` ran",
            file=sys.stderr,
        )
        return 2
    ports = [("--port", args.port)]
    if not args.nudge_url:
        ports.append(("--nudge-port", args.nudge_port))
    for flag, port in ports:
        if not _port_free(args.host, port):
            print(
                f"run.py: port {port} on {args.host} is taken (another demo, or `make run`?); "
                f"pass {flag} with a free port",
                file=sys.stderr,
            )
            return 2
    signal.signal(signal.SIGTERM, _interrupt)  # stop the way Ctrl-C does
    try:
        if args.nudge_url:
            return _beside_running_service(args)
        return _beside_own_service(args)
    except KeyboardInterrupt:
        return 0


def _beside_own_service(args: argparse.Namespace) -> int:
    demo_url = f"http://{args.host}:{args.port}"
    nudge_url = f"http://{args.host}:{args.nudge_port}"
    key_given = bool(os.environ.get("NUDGE_API_KEYS", "").strip(","))
    env = _service_env(args, demo_url)
    api_key = env["NUDGE_API_KEYS"].split(",")[0].strip()
    banner = _banner(
        demo_url,
        nudge_url=nudge_url,
        note="secret key from NUDGE_API_KEYS" if key_given else f"secret key {api_key}",
    )
    # Its own session: a Ctrl-C in the terminal reaches only this script, which then
    # stops the service exactly once (a second SIGINT would make uvicorn skip its shutdown).
    serve = ["serve", "--host", args.host, "--port", str(args.nudge_port)]
    service = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *serve],
        cwd=REPO,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        if not _wait_ready(service, nudge_url):
            return 1
        return _serve_demo(
            args,
            nudge_url=nudge_url,
            api_key=api_key,
            signing_secret=env["NUDGE_SIGNING_SECRET"],
            banner=banner,
        )
    finally:
        _stop(service)


def _beside_running_service(args: argparse.Namespace) -> int:
    """--nudge-url: a service someone else runs (its keys come from the environment)."""
    api_key = os.environ.get("NUDGE_API_KEYS", "").split(",")[0].strip()
    signing_secret = os.environ.get("NUDGE_SIGNING_SECRET", "")
    if not api_key or not signing_secret:
        print(
            "run.py: --nudge-url needs that service's NUDGE_API_KEYS and NUDGE_SIGNING_SECRET "
            "in the environment",
            file=sys.stderr,
        )
        return 2
    demo_url = f"http://{args.host}:{args.port}"
    nudge_url = args.nudge_url.rstrip("/")
    note = f"it must allow {demo_url} in NUDGE_CORS_ORIGINS"
    return _serve_demo(
        args,
        nudge_url=nudge_url,
        api_key=api_key,
        signing_secret=signing_secret,
        banner=_banner(demo_url, nudge_url=nudge_url, note=note),
    )


def _banner(demo_url: str, *, nudge_url: str, note: str) -> str:
    return (
        f"\nPlotline, the Nudge demo, is ready: {demo_url}\n"
        f"  Nudge service: {nudge_url} (API docs at {nudge_url}/docs), {note}\n"
        "  Invite two teammates to fill the free plan's 3 seats. Ctrl-C stops it all.\n"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="examples/webapp/run.py",
        description="Run the Nudge demo web app (Plotline) beside a Nudge service.",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface for both (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        help="the demo's port (default: the Nudge service's port + 1, so 8001)",
    )
    parser.add_argument(
        "--nudge-port", type=_port, default=8000, help="the Nudge service's port (default 8000)"
    )
    parser.add_argument(
        "--nudge-url",
        help="use a Nudge service that is already running at this URL instead of starting one "
        "(with its NUDGE_API_KEYS and NUDGE_SIGNING_SECRET in the environment)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO / "var" / "webapp-demo",
        help="where the embedded Redis and SQLite keep the demo's data (default var/webapp-demo)",
    )
    return parser


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return port


def _missing_packages() -> list[str]:
    import importlib.util

    return [
        name
        for name in ("app", "nudge_sdk", "uvicorn", "starlette", "httpx")
        if importlib.util.find_spec(name) is None
    ]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _service_env(args: argparse.Namespace, demo_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # Both processes need the same keys: generate them here unless they are given.
    if not env.get("NUDGE_API_KEYS", "").strip(","):
        env["NUDGE_API_KEYS"] = secrets.token_urlsafe(32)
    if not env.get("NUDGE_SIGNING_SECRET"):
        env["NUDGE_SIGNING_SECRET"] = secrets.token_urlsafe(48)
    origins = {demo_url, f"http://localhost:{args.port}", f"http://127.0.0.1:{args.port}"}
    given = [o.strip() for o in env.get("NUDGE_CORS_ORIGINS", "").split(",") if o.strip()]
    env["NUDGE_CORS_ORIGINS"] = ",".join([*given, *sorted(origins - set(given))])
    # NUDGE_DATA_DIR, when set, wins over --data-dir; SQLite follows it unless DATABASE_URL
    # is set, as for `nudge serve`.
    data_dir = Path(env.setdefault("NUDGE_DATA_DIR", str(args.data_dir.resolve())))
    data_dir.mkdir(parents=True, exist_ok=True)
    return env


def _die_with_parent() -> None:
    # Linux: if this script is killed outright, the kernel stops the service too.
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_ready(service: subprocess.Popen[bytes], nudge_url: str) -> bool:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if service.poll() is not None:
            code = service.returncode
            print(f"run.py: the Nudge service exited ({code}); see above", file=sys.stderr)
            return False
        try:
            if httpx.get(f"{nudge_url}/readyz", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    print(f"run.py: the Nudge service did not get ready in {READY_TIMEOUT:.0f} s", file=sys.stderr)
    return False


def _serve_demo(
    args: argparse.Namespace, *, nudge_url: str, api_key: str, signing_secret: str, banner: str
) -> int:
    import uvicorn
    from server import DemoConfig, create_app

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # listening: now the URL is worth printing
                print(banner, flush=True)

    config = DemoConfig(nudge_url=nudge_url, api_key=api_key, signing_secret=signing_secret)
    server = AnnouncingServer(
        uvicorn.Config(create_app(config), host=args.host, port=args.port, log_level="warning")
    )
    server.run()
    return 0 if server.started else 1


def _stop(service: subprocess.Popen[bytes]) -> None:
    if service.poll() is None:
        service.terminate()  # SIGTERM: uvicorn shuts down, the embedded redis-server with it
        try:
            service.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()


if __name__ == "__main__":
    sys.exit(main())
