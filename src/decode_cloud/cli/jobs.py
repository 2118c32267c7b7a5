"""`apps` and `jobs submit | ls | show | watch | cancel | rm | fetch`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decode_cloud.cli.output import print_downloads, print_job, print_jobs, print_json, say
from decode_cloud.errors import JobFailed, LocalPathError
from decode_cloud.models import JobSpec

if TYPE_CHECKING:
    from decode_cloud.aio import AsyncClient

JOB_FILE_KEYS = ("name", "app", "config", "data", "artifact", "env", "priority", "environment")


async def apps(args: argparse.Namespace, client: AsyncClient) -> int:
    catalogue = await client.applications()
    if args.json:
        print_json(catalogue)
        return 0
    for application, versions in sorted(catalogue.items()):
        for version, entrypoints in sorted(versions.items()):
            for entrypoint in sorted(entrypoints):
                say(f"{application}:{version}:{entrypoint}")
    return 0


def _job_file(path: Path) -> dict[str, Any]:
    import yaml  # only here: it would slow down the start of every command

    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise LocalPathError(f"--file {path}: {err}") from err
    if not isinstance(loaded, dict):
        raise LocalPathError(f"--file {path}: expected a mapping with keys {JOB_FILE_KEYS}")
    unknown = sorted(set(loaded) - set(JOB_FILE_KEYS))
    if unknown:
        raise LocalPathError(f"--file {path}: unknown keys {unknown}; known: {JOB_FILE_KEYS}")
    return loaded


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _environment(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise LocalPathError(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env


def job_spec(args: argparse.Namespace) -> JobSpec:
    """The job from `--file` (if given) with the command-line options taking precedence."""
    base = _job_file(args.file) if args.file else {}
    chosen = {key: getattr(args, key) for key in JOB_FILE_KEYS if getattr(args, key)}
    merged = {**base, **chosen}
    env = {str(k): str(v) for k, v in (base.get("env") or {}).items()}
    env.update(_environment(args.env or []))
    missing = [key for key in ("name", "app", "config") if not merged.get(key)]
    if missing:
        options = ", ".join(f"--{key}" for key in missing)
        raise LocalPathError(f"jobs submit needs {options} (or the keys in --file)")
    priority = merged.get("priority")
    return JobSpec(
        name=str(merged["name"]),
        app=str(merged["app"]),
        config=str(merged["config"]),
        data=_as_list(merged.get("data")),
        artifacts=_as_list(merged.get("artifact")),
        env=env,
        priority=None if priority is None else int(priority),
        environment=merged.get("environment"),
    )


async def submit(args: argparse.Namespace, client: AsyncClient) -> int:
    job = await client.submit(job_spec(args))
    if args.json:
        print_json(job.raw)
    else:
        say(f"submitted job {job.id} {job.name} ({job.status})")
    if args.watch:
        return await _follow(client, job.id, args.interval)
    return 0


async def ls(args: argparse.Namespace, client: AsyncClient) -> int:
    statuses = [status for value in args.status or [] for status in value.split(",") if status]
    jobs = await client.jobs(statuses)
    if args.json:
        print_json([job.raw for job in jobs])
    else:
        print_jobs(jobs)
    return 0


async def show(args: argparse.Namespace, client: AsyncClient) -> int:
    job = await client.job(args.id)
    if args.json:
        print_json(job.raw)
    else:
        print_job(job)
    return 0


async def _follow(client: AsyncClient, job_id: int, interval: float) -> int:
    last = None
    async for event in client.watch(job_id, interval):
        lines = (event.runtime_details or "").splitlines()
        details = "".join(f"  {line}" for line in lines if line.strip())
        say(f"{event.time}  job {job_id}  {event.status}{details}")
        last = event
    if last is not None and last.status != "finished":
        raise JobFailed(f"job {job_id} ended with status {last.status}")
    return 0


async def watch(args: argparse.Namespace, client: AsyncClient) -> int:
    return await _follow(client, args.id, args.interval)


async def cancel(args: argparse.Namespace, client: AsyncClient) -> int:
    job = await client.cancel(args.id)
    say(f"job {job.id} {job.name}: {job.status}")
    return 0


async def rm(args: argparse.Namespace, client: AsyncClient) -> int:
    await client.delete_job(args.id)
    say(f"deleted job {args.id} and its output, log and artifact folders")
    return 0


async def fetch(args: argparse.Namespace, client: AsyncClient) -> int:
    results = await client.fetch(args.id, args.local_dir)
    print_downloads(results, args.quiet)
    return 0
