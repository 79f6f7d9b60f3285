"""scripts/venv.sh, the composite action's install step, run for real against a local wheel
directory (no index): a cold run installs exactly the lock, hash-checked; a warm run reuses the
environment; a restored environment that does not match the lock is rebuilt; a file whose hash is not
in the lock is refused and nothing is reported as installed.

The wheels are written here: `packaging` (which the environment check needs) repacked from the copy
installed in the test environment, and a one-module probe project.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(directory: Path, name: str, version: str, files: dict[str, bytes], wheel_meta: bytes) -> str:
    """Write a wheel with `files` and a fresh RECORD; return its sha256."""
    info = f"{name}-{version}.dist-info"
    files = {**files, f"{info}/WHEEL": wheel_meta}
    if f"{info}/METADATA" not in files:
        files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    record = [_record_line(path, data) for path, data in sorted(files.items())] + [f"{info}/RECORD,,"]
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in sorted(files.items()):
            archive.writestr(member, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


WHEEL_META = b"Wheel-Version: 1.0\nGenerator: ci-security-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    directory = tmp_path_factory.mktemp("wheels")
    dist = metadata.distribution("packaging")
    files = {}
    for entry in dist.files or []:
        parts = entry.parts
        if "__pycache__" in parts or parts[-1] in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json"):
            continue
        if parts[0].endswith(".dist-info") and parts[-1] == "WHEEL":
            continue
        files["/".join(parts)] = Path(str(dist.locate_file(entry))).read_bytes()
    hashes = {
        "packaging": _wheel(directory, "packaging", dist.version, files, WHEEL_META),
        "probe": _wheel(directory, "probe", "1.0", {"probe.py": b"VALUE = 42\n"}, WHEEL_META),
    }
    return directory, {"packaging-version": dist.version, **hashes}


def _checkout(tmp_path: Path, lock: str) -> Path:
    """A copy of the two scripts with `lock` as requirements/action.lock.txt."""
    checkout = tmp_path / "action"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "requirements").mkdir()
    for script in ("venv.sh", "lock.py"):
        shutil.copy2(ROOT / "scripts" / script, checkout / "scripts" / script)
    (checkout / "requirements" / "action.lock.txt").write_text(lock, encoding="utf-8")
    return checkout


def _lock(info: dict[str, str], probe_hash: str | None = None) -> str:
    return (
        f"packaging=={info['packaging-version']} \\\n    --hash=sha256:{info['packaging']}\n"
        f"probe==1.0 \\\n    --hash=sha256:{probe_hash or info['probe']}\n"
    )


def _run(
    checkout: Path, venv: Path, wheel_dir: Path, tmp_path: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))} | extra
    env |= {
        "PIP_CONFIG_FILE": os.devnull,  # no machine-wide index, links or constraints
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheel_dir),
        "PIP_CACHE_DIR": str(tmp_path / "pip-cache"),
    }
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "venv.sh"), sys.executable, str(venv)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def _outputs(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def test_cold_then_warm_then_rebuilt_when_the_environment_drifts(tmp_path, wheels):
    wheel_dir, info = wheels
    checkout = _checkout(tmp_path, _lock(info))
    venv = tmp_path / "venv"

    cold = _outputs(_run(checkout, venv, wheel_dir, tmp_path))
    assert cold["installed"] == "true"
    python = Path(cold["python"])
    assert python.parent.parent == venv
    probe = subprocess.run([str(python), "-c", "import probe; print(probe.VALUE)"], capture_output=True,
                           text=True, check=True, cwd=tmp_path)  # fmt: skip
    assert probe.stdout.strip() == "42"
    # The environment holds the locked files and nothing else (no pip was seeded into it).
    listed = subprocess.run([str(python), "-I", str(checkout / "scripts" / "lock.py"), "check-env", "--lock",
                             str(checkout / "requirements" / "action.lock.txt")], capture_output=True,
                            text=True, check=False)  # fmt: skip
    assert listed.returncode == 0, listed.stderr

    warm = _run(checkout, venv, wheel_dir, tmp_path)
    assert _outputs(warm) == {"python": str(python), "installed": "false"}
    assert warm.stderr == ""

    # A restored cache whose probe is not the locked version is thrown away and rebuilt.
    (metadata_file,) = venv.glob("lib/python*/site-packages/probe-1.0.dist-info/METADATA")
    metadata_file.write_text("Metadata-Version: 2.1\nName: probe\nVersion: 0.9\n", encoding="utf-8")
    drifted = _run(checkout, venv, wheel_dir, tmp_path)
    assert _outputs(drifted)["installed"] == "true"
    assert "check-env: probe is 0.9, the lock pins 1.0" in drifted.stderr
    assert f"ci-security: {venv} does not match the lock; rebuilding it" in drifted.stderr
    assert _outputs(_run(checkout, venv, wheel_dir, tmp_path))["installed"] == "false"

    # The job's PYTHONPATH cannot make an environment that lost a package look complete.
    (module,) = venv.glob("lib/python*/site-packages/probe.py")
    shutil.rmtree(module.parent / "probe-1.0.dist-info")
    module.unlink()
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(wheel_dir, elsewhere / "wheels")
    with zipfile.ZipFile(next((elsewhere / "wheels").glob("probe-*.whl"))) as archive:
        archive.extractall(elsewhere)
    shadowed = _run(checkout, venv, wheel_dir, tmp_path, PYTHONPATH=str(elsewhere))
    assert _outputs(shadowed)["installed"] == "true"
    assert "check-env: probe==1.0 is not installed" in shadowed.stderr


def test_a_file_whose_hash_is_not_in_the_lock_is_refused(tmp_path, wheels):
    wheel_dir, info = wheels
    checkout = _checkout(tmp_path, _lock(info, probe_hash="0" * 64))
    venv = tmp_path / "venv"
    done = _run(checkout, venv, wheel_dir, tmp_path)
    assert done.returncode != 0
    assert "DO NOT MATCH THE HASHES" in done.stderr
    assert "installed=" not in done.stdout
    assert not (venv / "lib").exists() or not list(venv.glob("lib/python*/site-packages/probe.py"))
