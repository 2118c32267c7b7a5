"""The body sent to the worker-facing API, exactly as the contract describes it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.unit.job_world import ALICE, JobWorld, load_catalogue, train_spec
from userfacing_api.domain.identity import UserId
from userfacing_api.domain.jobs import ApplicationRef, Environment, Hardware
from userfacing_api.domain.paths import UserPath


async def test_the_payload_of_decode_v0_10_1_train_matches_the_contract(
    reference_catalogue: Path,
) -> None:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_file("alice", "config/exp1/param.yaml")
    await world.put_file("alice", "config/exp1/sub/extra.yaml")
    await world.put_file("alice", "data/beads/calib.mat")
    await world.put_file("alice", "data/frames/f.tif")
    await world.put_file("alice", "artifact/model1/model.pt")
    await world.put_file("bob", "data/beads/not_alices.mat")
    await world.storage.make_folder(UserId("alice"), UserPath("data/beads/empty_folder"))
    spec = replace(
        train_spec(data_ids=("beads", "frames/"), artifact_ids=("model1",)),
        environment=Environment.CLOUD,
        priority=3,
        hardware=Hardware(cpu_cores=4, memory=8000, gpu_model="A100"),
    )

    job = await world.jobs.create(ALICE, spec)

    assert world.queue.sent == [
        {
            "job": {
                "app": {
                    "cmd": [
                        "/docker/entrypoint.sh",
                        "--train",
                        "--calib_path=$(find /files/data -name '*.mat' | head -n 1)",
                        "--param_path=$(find /files/config -name '*.yaml' | head -n 1)",
                        "--model_path=/files/model",
                        "--log_path=/files/log",
                    ],
                    "env": {},
                },
                "handler": {
                    "image_url": "public.ecr.aws/w2b7b8c0/decode-cloud/decode:v0_10_1",
                    "image_name": "decode",
                    "image_version": "v0_10_1",
                    "entrypoint": "train",
                    "files_down": {
                        "config/param.yaml": "memory://alice/config/exp1/param.yaml",
                        "config/sub/extra.yaml": "memory://alice/config/exp1/sub/extra.yaml",
                        "data/calib.mat": "memory://alice/data/beads/calib.mat",
                        "data/f.tif": "memory://alice/data/frames/f.tif",
                        "artifact/model.pt": "memory://alice/artifact/model1/model.pt",
                    },
                    "files_up": {"log": "log", "artifact": "model"},
                },
                "meta": {"job_id": job.id, "date_created": "2024-05-01T12:00:00+00:00"},
                "hardware": {
                    "cpu_cores": 4,
                    "memory": 8000,
                    "gpu_model": "A100",
                    "gpu_archi": None,
                    "gpu_mem": None,
                },
            },
            "environment": "cloud",
            "group": None,
            "priority": 3,
            "paths_upload": {
                "output": "memory://alice/output/run1",
                "log": "memory://alice/log/run1",
                "artifact": "memory://alice/artifact/run1",
            },
        }
    ]


async def test_a_job_without_hardware_environment_or_priority_sends_their_defaults(
    reference_catalogue: Path,
) -> None:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_inputs()

    await world.jobs.create(ALICE, train_spec())

    sent = world.queue.sent[0]
    assert sent["environment"] is None
    assert sent["priority"] == 0
    assert sent["job"]["hardware"] == dict.fromkeys(
        ("cpu_cores", "memory", "gpu_model", "gpu_archi", "gpu_mem")
    )


async def test_the_entrypoints_own_container_roots_are_used(reference_catalogue: Path) -> None:
    world = JobWorld(load_catalogue(reference_catalogue))
    await world.put_inputs()
    latest = replace(train_spec(), application=ApplicationRef("decode", "latest", "train"))

    await world.jobs.create(ALICE, latest)

    assert set(world.queue.sent[0]["job"]["handler"]["files_down"]) == {
        "config_tmp/param.yaml",
        "data/calib.mat",
    }
