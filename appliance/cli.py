"""The ``callbox`` command line: set up a data directory, run the processes, administer the box.

Every command is one ``Command`` in ``COMMANDS``; ``callbox up`` runs the long-lived ones listed in ``SERVICES``
as child processes (a service whose command is not registered, such as ``voice`` before the voice agent
exists, is skipped). Usage and configuration problems end with one ``callbox: error: ...`` line and status 2;
other failures with one such line and status 1.
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from peewee import DatabaseError

from appliance import __version__
from appliance.cli_models import models_args, run_models
from appliance.config import Config, load_config, resolve_data_dir
from appliance.errors import CallboxError, ConfigError, ValidationError

logger = logging.getLogger(__name__)

EXIT_USAGE = 2
LOG_FORMAT = "%(asctime)s %(levelname)s {command}[%(process)d] %(name)s [%(request_id)s] %(message)s"


class UsageError(Exception):
    """A wrong flag or argument (status 2)."""


class Parser(argparse.ArgumentParser):
    """An argparse parser whose errors become one line instead of usage text and ``exit(2)``."""

    def error(self, message: str):
        command = self.prog.removeprefix("callbox").strip()
        raise UsageError(f"{command}: {message}" if command else message)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Config | None], int]
    uses_config: bool = True
    """Whether the data directory must exist and its config is loaded before ``run``."""


@dataclass(frozen=True)
class Service:
    """A long-running process of ``callbox up``: ``callbox <command> --data-dir DIR <args(config)>``."""

    command: str
    args: Callable[[Config], list[str]]
    enabled: Callable[[Config], bool] = lambda config: True


# -- helpers ----------------------------------------------------------------------------------------------------

def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a TCP/UDP port (1-65535)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def _check_ports(config: Config) -> None:
    for name, port in (("[web] port", config.web.port), ("[voice] sip_port", config.voice.sip_port)):
        if not 0 < port < 65536:
            raise ConfigError(f"{name}: {port} is not a port number (1-65535)")


# Flags that override a setting, by argparse destination: (config section, setting). Flags win over the
# config file and the CALLBOX_* environment.
FLAG_SETTINGS = {
    "host": ("web", "host"),
    "port": ("web", "port"),
    "threads": ("web", "threads"),
    "workers": ("queue", "workers"),
    "sip_port": ("voice", "sip_port"),
}


def flag_overrides(args: argparse.Namespace) -> dict[str, dict]:
    """The config changes asked for by the flags given on the command line."""
    changes: dict[str, dict] = {}
    for dest, (section, key) in FLAG_SETTINGS.items():
        value = getattr(args, dest, None)
        if value is not None:
            changes.setdefault(section, {})[key] = value
    return changes


def configure_logging(level: str, command: str) -> Callable[[], None]:
    """Send log records to stderr with the process and request id; returns what undoes it."""
    from web import RequestIdFilter

    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ConfigError(f"[log] level: unknown log level {level!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT.format(command=command)))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(numeric)

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(previous_level)

    return undo


def load(data_dir: str | None, overrides: dict) -> Config:
    """The configuration of an existing data directory, with the command's flags applied."""
    from appliance.datadir import check_data_dir

    root = resolve_data_dir(data_dir)
    check_data_dir(root)
    config = load_config(root)
    config = config.replace(**overrides) if overrides else config
    _check_ports(config)
    return config


def migrate_database(config: Config) -> None:
    """Bring the schema up to date (serialized across processes) and release the connection."""
    from appliance.datadir import open_database

    open_database(config).close_all()


# -- init, demo, create-admin -----------------------------------------------------------------------------------

def run_init(args: argparse.Namespace, _: Config | None) -> int:
    """``callbox init``: the data directory, config, key and schema; the demo organization with ``--demo``."""
    from appliance.datadir import initialize

    config = initialize(args.data_dir)
    print(f"Data directory ready: {config.data_dir}")
    if args.demo:
        _seed_demo(config)
    return 0


def _seed_demo(config: Config) -> None:
    from appliance import demo

    ctx = demo.seed_demo(config)
    print(f"Demo organization: {ctx.organization.name} ({len(ctx.users)} users)")
    print(f"Sign in as {demo.DEMO_EMAIL} / {demo.DEMO_PASSWORD}")


def run_demo(args: argparse.Namespace, config: Config) -> int:
    """``callbox demo``: add the demo organization and data to an existing data directory."""
    migrate_database(config)
    _seed_demo(config)
    return 0


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or asked twice on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise UsageError("create-admin: no terminal to ask for the password; pipe it in with --password-stdin")
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
        raise ValidationError("the passwords do not match")
    return password


def run_create_admin(args: argparse.Namespace, config: Config) -> int:
    """``callbox create-admin``: an appliance-wide admin who is OWNER of an organization."""
    from appliance.admin import create_admin
    from data.db import database

    password = read_password(args.password_stdin)
    migrate_database(config)
    with database.connection_context():
        user, org, created = create_admin(args.email, args.name, password, args.organization)
    verb = "Created" if created else "Updated (password reset, sessions revoked)"
    print(f"{verb} admin {user.email}: superuser, OWNER of {org.name} ({org.id})")
    return 0


# -- processes --------------------------------------------------------------------------------------------------

def _exit_on_sigterm() -> None:
    # waitress ends its loop cleanly on SystemExit; SIGTERM (systemd, callbox up) becomes exactly that.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


def run_web(args: argparse.Namespace, config: Config) -> int:
    """``callbox web``: waitress serving the web UI and API."""
    from waitress import create_server

    from web import create_app

    migrate_database(config)
    app = create_app(config)
    host, port = config.web.host, config.web.port
    try:
        server = create_server(app, host=host, port=port, threads=config.web.threads, ident="Callbox",
                               max_request_body_size=(config.web.max_content_mb + 1) * 1024 * 1024)
    except OSError as exc:
        raise CallboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    _exit_on_sigterm()
    logger.info("web serving on http://%s:%s with %d threads", host, port, config.web.threads)
    server.run()
    logger.info("web stopped")
    return 0


def run_worker(args: argparse.Namespace, config: Config) -> int:
    """``callbox worker``: the Huey consumer of the ``jobs`` queue."""
    from jobs.main import run_worker as consume

    migrate_database(config)
    return consume(config, config.queue.workers)


def run_voice(args: argparse.Namespace, config: Config) -> int:
    """``callbox voice``: the SIP voice agent and the consumer of the ``voice`` queue."""
    from voice.service import run_voice as serve

    migrate_database(config)
    return serve(config)


def run_up(args: argparse.Namespace, config: Config) -> int:
    """``callbox up``: every service as a supervised child process."""
    from appliance import supervisor as sv

    migrate_database(config)
    sv.check_port_free(config.web.host, config.web.port)
    specs = [sv.ChildSpec(s.command, (sys.executable, "-m", "appliance.cli", s.command,
                                      "--data-dir", str(config.data_dir), *s.args(config)))
             for s in SERVICES if s.command in COMMANDS and s.enabled(config)]
    return sv.run_services(specs, config)


def run_doctor(args: argparse.Namespace, _: Config | None) -> int:
    """``callbox doctor``: check everything, one line each."""
    from appliance.doctor import doctor

    return doctor(resolve_data_dir(args.data_dir))


def run_backup(args: argparse.Namespace, config: Config) -> int:
    """``callbox backup``: a consistent archive of the database, config and key."""
    from appliance.backup import create_backup

    path = create_backup(config, Path(args.output) if args.output else None)
    print(f"Backup written to {path}")
    return 0


def run_restore(args: argparse.Namespace, _: Config | None) -> int:
    """``callbox restore``: put a backup in place, then migrate it forward."""
    from appliance.backup import restore_backup

    root = resolve_data_dir(args.data_dir)
    manifest = restore_backup(root, Path(args.file), force=args.force)
    migrate_database(load_config(root))
    print(f"Restored {args.file} (made {manifest.get('createdAt', 'at an unknown time')}) into {root}")
    return 0


# -- the parser -------------------------------------------------------------------------------------------------

def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", help="data directory (default: $CALLBOX_DATA_DIR or ./var)")


def _init_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--demo", action="store_true", help="also create the demo organization and its data")


def _web_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--host", help="address to listen on (default from config: 127.0.0.1)")
    p.add_argument("--port", type=_port, help="TCP port (default from config: 8080)")
    p.add_argument("--threads", type=_positive, help="waitress threads")


def _worker_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--workers", type=_positive, help="worker threads")


def _voice_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--sip-port", type=_port, help="SIP UDP port (default from config: 5060)")


def _up_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--host", help="web address (default from config: 127.0.0.1)")
    p.add_argument("--port", type=_port, help="web port (default from config: 8080)")
    p.add_argument("--sip-port", type=_port, help="SIP port of the voice agent (default from config: 5060)")


def _admin_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--email", required=True)
    p.add_argument("--name", help="display name (default: from the email)")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--organization", metavar="NAME",
                   help="organization to own (found by name or created; default: the first one)")


def _backup_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("--output", metavar="FILE", help="archive to write (default: DIR/backups/callbox-TIME.tar.gz)")


def _restore_args(p: argparse.ArgumentParser) -> None:
    _data_dir(p)
    p.add_argument("file", metavar="FILE", help="a backup archive made by callbox backup")
    p.add_argument("--force", action="store_true", help="replace a database that already holds data")


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("init", "create or upgrade a data directory", _init_args, run_init, uses_config=False),
    Command("up", "run web, worker and voice together (Ctrl-C stops)", _up_args, run_up),
    Command("web", "run the web UI and API", _web_args, run_web),
    Command("worker", "run the background worker", _worker_args, run_worker),
    Command("voice", "run the SIP voice agent", _voice_args, run_voice),
    Command("create-admin", "create an appliance admin (OWNER, superuser)", _admin_args, run_create_admin),
    Command("demo", "add the demo organization and data", _data_dir, run_demo),
    Command("doctor", "check the data directory and services", _data_dir, run_doctor, uses_config=False),
    Command("backup", "back up the database, config and key", _backup_args, run_backup),
    Command("restore", "restore a backup into a data directory", _restore_args, run_restore, uses_config=False),
    Command("models", "list or install speech models", models_args, run_models),
)}

SERVICES: tuple[Service, ...] = (
    Service("web", lambda c: ["--host", c.web.host, "--port", str(c.web.port), "--threads", str(c.web.threads)]),
    Service("worker", lambda c: ["--workers", str(c.queue.workers)]),
    Service("voice", lambda c: ["--sip-port", str(c.voice.sip_port)], lambda c: c.voice.enabled),
)


def build_parser() -> Parser:
    """The ``callbox`` parser with one subparser per registered command."""
    parser = Parser(prog="callbox", description="Callbox: a self-hosted AI call center in one box.")
    parser.add_argument("--version", action="version", version=f"callbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS.values():
        command.arguments(sub.add_parser(command.name, help=command.help, description=command.help))
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if not args.command:
        raise UsageError(f"choose a command: {', '.join(COMMANDS)}")
    command = COMMANDS[args.command]
    previous = os.umask(0o077)  # everything Callbox writes (database, queue, recordings, backups) is private
    undo_logging = None
    try:
        config = load(args.data_dir, flag_overrides(args)) if command.uses_config else None
        undo_logging = configure_logging(config.log.level if config else "INFO", args.command)
        return command.run(args, config)
    finally:
        os.umask(previous)  # both matter only when main() runs inside another program (tests)
        if undo_logging:
            undo_logging()


def _fail(message: str, status: int) -> int:
    print(f"callbox: error: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run one ``callbox`` command; returns the exit status."""
    try:
        return _dispatch(build_parser().parse_args(argv))
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(f"{exc} (see: callbox --help)", EXIT_USAGE)
    except ConfigError as exc:
        return _fail(exc.message, EXIT_USAGE)
    except CallboxError as exc:
        return _fail(exc.message, 1)
    except (OSError, DatabaseError) as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
