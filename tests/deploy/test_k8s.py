"""The Kubernetes room: manifests valid against the Kubernetes schemas, values that z2jh
knows, and the grading Job's scripts run for real on a small room."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.grading._helpers import exercise, notebook, references, write

kubernetes_validate = pytest.importorskip("kubernetes_validate")

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MANIFESTS = ["grade-job.yaml", "merge-job.yaml", "storage.yaml"]
# The oldest Kubernetes z2jh 4.4 supports (its Chart.yaml: >=1.28), one with
# backoffLimitPerIndex generally available (1.33), and the newest schemas shipped.
VERSIONS = ["1.28.0", "1.33.0", "1.37.0"]


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if d]


def _by_name(kind: str, name: str) -> dict[str, Any]:
    for file in MANIFESTS:
        for doc in _docs(file):
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                return doc
    raise AssertionError(f"no {kind} {name} in deploy/k8s")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_validates_strictly(name: str, version: str) -> None:
    """Every object in the manifest passes kubernetes-validate's strict schema (no unknown field)."""
    docs = _docs(name)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, version, True)


def test_validation_catches_a_misspelt_field() -> None:
    """The check can fail: a misspelt Job field is refused by the strict schema."""
    job = _by_name("Job", "perflab-grade")
    job["spec"]["completion"] = job["spec"].pop("completions")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.37.0", True)


def test_grade_job_is_indexed_with_one_pod_per_shard() -> None:
    """The Job is Indexed, its completions equal the ConfigMap's SHARDS, and it mounts what exists."""
    job = _by_name("Job", "perflab-grade")
    config = _by_name("ConfigMap", "perflab-grade")["data"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == int(config["SHARDS"]) >= spec["parallelism"] >= 1
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    (container,) = pod["containers"]
    for mount in container["volumeMounts"]:
        assert mount["name"] in volumes
    homes = next(m for m in container["volumeMounts"] if m["mountPath"] == config["HOMES"])
    assert homes["readOnly"] is True  # the grader never writes a learner's files
    for volume in volumes.values():
        if "persistentVolumeClaim" in volume:
            _by_name("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {
        config["HOMES"],
        config["RESULTS"],
        config["SCRIPTS"],
    }


# Keys of the z2jh 4.4.0 chart's values schema (jupyterhub/values.schema.yaml) that this
# room uses, by path. The schema itself ships only inside the Helm chart (not on PyPI or
# npm), so the test checks the values' keys against this list instead of the schema.
Z2JH_KEYS = {
    "": {"hub", "singleuser", "cull", "scheduling", "prePuller", "proxy", "ingress"},
    "hub": {
        "config",
        "concurrentSpawnLimit",
        "consecutiveFailureLimit",
        "loadRoles",
        "extraEnv",
        "db",
        "resources",
    },
    "singleuser": {
        "image",
        "cmd",
        "defaultUrl",
        "extraEnv",
        "memory",
        "cpu",
        "storage",
        "startTimeout",
        "profileList",
        "lifecycleHooks",
        "initContainers",
    },
    "singleuser.image": {"name", "tag", "pullPolicy", "pullSecrets"},
    "singleuser.memory": {"limit", "guarantee"},
    "singleuser.cpu": {"limit", "guarantee"},
    "singleuser.storage": {
        "type",
        "static",
        "dynamic",
        "capacity",
        "homeMountPath",
        "extraVolumes",
        "extraVolumeMounts",
        "extraLabels",
    },
    "singleuser.storage.static": {"pvcName", "subPath"},
    "cull": {
        "enabled",
        "users",
        "adminUsers",
        "removeNamedServers",
        "timeout",
        "every",
        "concurrency",
        "maxAge",
    },
    "scheduling": {"userScheduler", "podPriority", "userPlaceholder", "corePods", "userPods"},
    "scheduling.userScheduler": {"enabled", "replicas", "logLevel", "resources"},
    "scheduling.podPriority": {
        "enabled",
        "globalDefault",
        "defaultPriority",
        "imagePullerPriority",
        "userPlaceholderPriority",
    },
    "scheduling.userPlaceholder": {"enabled", "replicas", "resources"},
    "scheduling.corePods": {"nodeAffinity", "tolerations"},
    "scheduling.userPods": {"nodeAffinity", "tolerations"},
    "scheduling.corePods.nodeAffinity": {"matchNodePurpose"},
    "scheduling.userPods.nodeAffinity": {"matchNodePurpose"},
    "prePuller": {"hook", "continuous", "extraImages", "pullProfileListImages"},
    "prePuller.hook": {"enabled"},
    "prePuller.continuous": {"enabled"},
}
FREE_FORM = {"hub.config", "singleuser.extraEnv", "hub.loadRoles"}  # any key (traitlets, env)


def _unknown_keys(values: dict[str, Any], path: str = "") -> list[str]:
    bad = []
    for key, value in values.items():
        here = f"{path}.{key}" if path else key
        if key not in Z2JH_KEYS.get(path, set()):
            bad.append(here)
        elif isinstance(value, dict) and here not in FREE_FORM:
            bad.extend(_unknown_keys(value, here))
    return bad


def test_values_use_only_keys_z2jh_knows() -> None:
    """Every key in values.yaml is one the z2jh chart's schema has, at the place it has it."""
    values = yaml.safe_load((K8S / "values.yaml").read_text(encoding="utf-8"))
    assert _unknown_keys(values) == []
    assert _unknown_keys({"singleuser": {"memmory": {"limit": "2G"}}}) == ["singleuser.memmory"]


def test_values_make_a_perflab_room() -> None:
    """Learners' servers start through perflab.room in room mode, limited, culled, on the
    shared homes volume the grading Job reads; both use the same image."""
    values = yaml.safe_load((K8S / "values.yaml").read_text(encoding="utf-8"))
    user = values["singleuser"]
    assert user["cmd"] == ["python", "-m", "perflab.room", "singleuser"]
    assert user["extraEnv"]["PERFLAB_LAB_MODE"] == "room"
    assert user["memory"]["limit"] and user["cpu"]["limit"]
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    assert user["storage"]["static"]["pvcName"] == "perflab-homes"
    _by_name("PersistentVolumeClaim", "perflab-homes")
    assert values["hub"]["config"]["Authenticator"]["admin_users"]
    image = f"{user['image']['name']}:{user['image']['tag']}"
    for job in ("perflab-grade", "perflab-merge"):
        (container,) = _by_name("Job", job)["spec"]["template"]["spec"]["containers"]
        assert container["image"] == image


def _run_script(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    config = _by_name("ConfigMap", "perflab-grade")["data"]
    return subprocess.run(
        ["sh", "-c", config[name]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.notebooks
def test_job_scripts_grade_a_room_in_shards_like_one_run(tmp_path: Path) -> None:
    """room.sh, grade.sh for each index and merge.sh, run as the pods run them, give the
    CSV of one unsharded `perflab check` of the same room."""
    homes = tmp_path / "homes"
    for name in ("ana", "ben", "cy", "dee", "teacher"):
        ex = homes / name / "perflab-curriculum" / "exercises"
        write(notebook(), ex / "00_blank.ipynb")  # no checks: graded without a kernel
    write(
        notebook(*exercise("a"), exercises=["a"]),
        homes / "ana/perflab-curriculum/exercises/01.ipynb",
    )
    write(
        notebook(*exercise("a", "answer_a = 1"), exercises=["a"]),
        homes / "ben/perflab-curriculum/exercises/01.ipynb",
    )
    (homes / "eve").mkdir()  # a learner who never started a server: no copy, no row
    (refs,) = references(tmp_path / "refs", "a")  # the test notebooks' reference solution
    results, scripts = tmp_path / "results", tmp_path / "scripts"
    results.mkdir()
    scripts.mkdir()
    config = _by_name("ConfigMap", "perflab-grade")["data"]
    for script in ("room.sh", "grade.sh", "merge.sh"):
        (scripts / script).write_text(config[script], encoding="utf-8")
    env = {
        **os.environ,
        **{k: v for k, v in config.items() if not k.endswith(".sh")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOMES": str(homes),
        "RESULTS": str(results),
        "ROOM": str(tmp_path / "room"),
        "SCRIPTS": str(scripts),
        "EXTRA_ARGS": f"--references {refs}",
        "SHARDS": "3",
        "WORKERS": "2",
        "TIMEOUT": "20",
    }
    for index in range(3):
        done = _run_script("grade.sh", {**env, "JOB_COMPLETION_INDEX": str(index)})
        assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in results.iterdir()) == [f"shard-{k}.json" for k in (1, 2, 3)]
    done = _run_script("merge.sh", env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"room.csv", "report.html", "room.xml", "room.json"} <= {
        p.name for p in results.iterdir()
    }

    whole = tmp_path / "whole.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "perflab",
            "check",
            str(tmp_path / "room"),
            "--seed",
            config["SEED"],
            "--timeout",
            "20",
            "--references",
            str(refs),
            "--csv",
            str(whole),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert (results / "room.csv").read_bytes() == whole.read_bytes()
    rows = list(csv.DictReader(io.StringIO(whole.read_text(encoding="utf-8"))))
    assert sorted({r["learner"] for r in rows}) == [
        "ana",
        "ben",
        "cy",
        "dee",
    ]  # not teacher, not eve
    ana = next(r for r in rows if r["learner"] == "ana" and r["notebook"].endswith("01.ipynb"))
    ben = next(r for r in rows if r["learner"] == "ben" and r["notebook"].endswith("01.ipynb"))
    assert (ana["a"], ben["a"]) == ("passed", "failed")


def test_grade_script_fails_a_shard_whose_grader_crashed(tmp_path: Path) -> None:
    """A grader that dies with a traceback (exit 1, like a failed exercise) leaves no shard
    file and fails the pod (exit 2), so the Job retries that index instead of merging a hole."""
    fake = tmp_path / "bin" / "perflab"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\nexit 1\n")
    fake.chmod(0o755)
    homes, results, scripts = tmp_path / "homes", tmp_path / "results", tmp_path / "scripts"
    write(notebook(), homes / "ana" / "perflab-curriculum" / "exercises" / "01.ipynb")
    results.mkdir()
    scripts.mkdir()
    config = _by_name("ConfigMap", "perflab-grade")["data"]
    (scripts / "room.sh").write_text(config["room.sh"], encoding="utf-8")
    env = {
        **os.environ,
        **{k: v for k, v in config.items() if not k.endswith(".sh")},
        "PATH": f"{fake.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
        f"{os.environ['PATH']}",
        "HOMES": str(homes),
        "RESULTS": str(results),
        "ROOM": str(tmp_path / "room"),
        "SCRIPTS": str(scripts),
        "JOB_COMPLETION_INDEX": "0",
    }
    done = _run_script("grade.sh", env)
    assert done.returncode == 2
    assert "not graded" in done.stderr
    assert not (results / "shard-1.json").exists()


def test_grading_pods_get_no_network() -> None:
    """A NetworkPolicy selects the grading pods and allows them no traffic either way."""
    policy = _by_name("NetworkPolicy", "perflab-grader-no-network")["spec"]
    labels = _by_name("Job", "perflab-grade")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert policy["ingress"] == [] and policy["egress"] == []
