"""The command line: every command, its arguments and its help."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from decode_cloud.cli import account, files, jobs
from decode_cloud.defaults import PARALLEL_FILES, POLL_SECONDS, PROVIDERS, URL_VARIABLE

if TYPE_CHECKING:
    from decode_cloud.aio import AsyncClient

Handler = Callable[[argparse.Namespace, "AsyncClient"], Awaitable[int]]

DESCRIPTION = """\
The command line of DECODE OpenCloud: upload microscopy data and configurations,
start analysis jobs, follow them and download their results.

Start with `decode-cloud login --url https://api.example.org`; later commands use
that service (or --url, or $DECODE_CLOUD_URL). Paths in the cloud are relative to
your own tree: config/, data/, artifact/ (your uploads), output/, log/ (results).
"""

EPILOG = """\
exit codes:
  0    success
  1    the service failed (5xx) or answered something unexpected
  2    wrong arguments, an unusable local path, or a declined confirmation
  3    not logged in, login refused or expired (401), or no access (403)
  4    no such file, folder or job (404)
  5    the service refused the request (another 4xx: invalid, conflict, too large, ...)
  6    a watched job ended in `error` or `cancelled`
  7    the service or Cognito could not be reached
  130  interrupted (Ctrl-C); run the same command again to resume transfers

Errors print the service's `detail` on one line on standard error.
"""


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"the service's base URL (default: ${URL_VARIABLE}, else the last login's)",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars and no per-file lines (bars are also off when not on a terminal)",
    )
    return common


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def _job_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", type=int, help="the job's id (see `decode-cloud jobs ls`)")


def _interval(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--interval",
        type=float,
        default=POLL_SECONDS,
        metavar="SECONDS",
        help="how often to ask for the status where the service streams no events"
        f" (default {POLL_SECONDS:g})",
    )


class _Commands:
    def __init__(self, parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
        self._sub = parser.add_subparsers(title="commands", metavar="COMMAND")
        self._common = common

    def add(
        self, name: str, handler: Handler | None, summary: str, details: str = ""
    ) -> argparse.ArgumentParser:
        """A command; one without a handler only groups commands and prints its help."""
        parser = self._sub.add_parser(
            name,
            help=summary,
            description=f"{summary}.\n\n{details}".strip(),
            parents=[self._common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler, command_parser=parser)
        return parser


def _account_commands(commands: _Commands) -> None:
    login = commands.add(
        "login",
        account.login,
        "Log in and keep the id token for later commands",
        "Asks for the username and password (or reads the password from standard input\n"
        "with --password-stdin). Deployments with Amazon Cognito (named by the service's\n"
        "/access_info) are logged in against Cognito directly; the refresh token is kept so\n"
        "the id token is renewed without asking again. Others issue the token themselves\n"
        "(POST /token). Credentials are cached per service URL, readable only by you,\n"
        "and the service becomes the default for later commands.",
    )
    login.add_argument("--username", help="your username (e-mail); asked for if missing")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    login.add_argument(
        "--provider",
        choices=PROVIDERS,
        help="force the identity provider (default: Cognito when the service names a pool)",
    )
    commands.add("logout", account.logout, "Forget the cached login of the service")
    _json(commands.add("whoami", account.whoami, "Show who is logged in, and where"))


def _file_commands(commands: _Commands) -> None:
    ls = commands.add(
        "ls",
        files.ls,
        "List a folder of your tree",
        "Without PATH, the five top folders. Folders end in `/`.",
    )
    ls.add_argument("path", nargs="?", default="", metavar="PATH", help="the folder to list")
    ls.add_argument("-r", "--recursive", action="store_true", help="list every file below it")
    _json(ls)

    upload = commands.add(
        "upload",
        files.upload,
        "Upload files and folders into a folder of config/, data/ or artifact/",
        "Folders are uploaded recursively and keep their name, like `cp -r`:\n"
        "`upload exp1 data/` gives data/exp1/... Large files go through resumable upload\n"
        "sessions where the service has them: after an interruption, run the same command\n"
        "again and only the missing parts are sent.",
    )
    upload.add_argument("sources", nargs="+", type=Path, metavar="LOCAL", help="files or folders")
    upload.add_argument("remote_dir", metavar="REMOTE_DIR", help="e.g. data/exp1")
    upload.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave out files already in the cloud with the same size",
    )
    upload.add_argument(
        "--parallel",
        type=int,
        default=PARALLEL_FILES,
        metavar="N",
        help=f"files sent at the same time (default {PARALLEL_FILES})",
    )
    upload.add_argument(
        "--single-request",
        action="store_true",
        help="send every file in one request, without upload sessions: faster where the"
        " service keeps files on its own disk, but an interrupted file starts over",
    )

    download = commands.add(
        "download",
        files.download,
        "Download a file or a folder",
        "A file goes to LOCAL (or into it, if LOCAL is a folder). A folder is fetched file by\n"
        "file into LOCAL (or LOCAL/<name> if LOCAL is an existing folder). Files arrive as\n"
        "<name>.part and get their name when complete; run the same command again after an\n"
        "interruption and it continues where it stopped (or starts over, if the file\n"
        "changed in the cloud meanwhile).",
    )
    download.add_argument("remote", metavar="REMOTE", help="a file or folder of your tree")
    download.add_argument("local", type=Path, metavar="LOCAL", help="where to put it")
    download.add_argument(
        "--zip", action="store_true", help="fetch a folder as one zip file (not resumable)"
    )

    mv = commands.add(
        "mv",
        files.mv,
        "Rename or move a file or an empty folder",
        "An existing file at TARGET is replaced.",
    )
    mv.add_argument("source", metavar="SOURCE")
    mv.add_argument("target", metavar="TARGET")

    rm = commands.add(
        "rm",
        files.rm,
        "Delete a file or a folder",
        "Asks before deleting a folder and everything in it, unless --yes. The five top\n"
        "folders are emptied but stay.",
    )
    rm.add_argument("path", metavar="PATH")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask")

    mkdir = commands.add("mkdir", files.mkdir, "Create a folder (and the folders above it)")
    mkdir.add_argument("path", metavar="PATH", help="e.g. data/exp2")


def _job_commands(commands: _Commands, common: argparse.ArgumentParser) -> None:
    _json(
        commands.add(
            "apps",
            jobs.apps,
            "List the applications jobs can run",
            "One line per application:version:entrypoint, as `jobs submit --app` takes it.",
        )
    )
    group = commands.add("jobs", None, "Submit, list, follow and fetch jobs")
    sub = _Commands(group, common)

    submit = sub.add(
        "submit",
        jobs.submit,
        "Start a job",
        "The inputs are names of folders (or files) under config/, data/ and artifact/.\n"
        "With --file, the job comes from a YAML file with the keys name, app, config,\n"
        "data, artifact, env, priority, environment; options given as well win.\n\n"
        "example:\n"
        "  decode-cloud jobs submit --name beads --app decode:v0_10_1:train \\\n"
        "      --config exp1 --data exp1 --env SEED=1 --watch",
    )
    submit.add_argument("--name", help="a name unique among your jobs")
    submit.add_argument("--app", help="application:version:entrypoint (see `decode-cloud apps`)")
    submit.add_argument("--config", help="the folder under config/")
    submit.add_argument("--data", nargs="+", help="folders under data/")
    submit.add_argument("--artifact", nargs="+", help="folders under artifact/")
    submit.add_argument("--env", action="append", metavar="KEY=VALUE", help="an env variable")
    submit.add_argument("--priority", type=int, help="0 (default) to 5")
    submit.add_argument(
        "--environment", choices=("cloud", "local"), help="where it may run (default: anywhere)"
    )
    submit.add_argument("--file", type=Path, help="the job as YAML")
    submit.add_argument("--watch", action="store_true", help="then follow it until it ends")
    _interval(submit)
    _json(submit)

    listing = sub.add("ls", jobs.ls, "List your jobs, newest first")
    listing.add_argument(
        "--status",
        action="append",
        metavar="STATUS[,STATUS]",
        help="only jobs in these statuses (queued, pulled, preprocessing, running,"
        " postprocessing, finished, error, cancelled)",
    )
    _json(listing)

    show = sub.add("show", jobs.show, "Show a job")
    _job_id(show)
    _json(show)

    watch = sub.add(
        "watch",
        jobs.watch,
        "Follow a job's status until it ends",
        "Prints every status change from the job's creation on, live from the service's\n"
        "event stream (or by polling its recorded history, or the job itself, where it has\n"
        "no stream). Exits 0 when the job finished\n"
        "and 6 when it ended in error or was cancelled.",
    )
    _job_id(watch)
    _interval(watch)

    _job_id(sub.add("cancel", jobs.cancel, "Cancel a job that has not ended"))
    _job_id(sub.add("rm", jobs.rm, "Delete a job with its output, log and artifact folders"))
    fetch = sub.add(
        "fetch",
        jobs.fetch,
        "Download a job's results",
        "The job's output, log and artifact folders go to LOCAL_DIR/output, LOCAL_DIR/log\n"
        "and LOCAL_DIR/artifact; files already fetched are not fetched again.",
    )
    _job_id(fetch)
    fetch.add_argument("local_dir", type=Path, metavar="LOCAL_DIR")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="decode-cloud",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = _Commands(parser, common)
    _account_commands(commands)
    _file_commands(commands)
    _job_commands(commands, common)
    return parser
