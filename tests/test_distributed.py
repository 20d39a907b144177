"""Training in several processes: `accelerate launch` with training/accelerate-cpu.yaml starts 2 CPU processes
(gloo) that train the tiny model through training.train, save checkpoints, resume in a second launch, and follow
the same loss curve as one process with the same global batch. The slow test launches real processes (about a
minute on 2 cores); the others check the pure pieces: rows per step, the continue command, the configs, the
sharding of the packed row order, and that only the first process writes the relay record."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from training.relay import checkpoint_problem, continue_command, launcher, recorder, rows_per_step

ROOT = Path(__file__).resolve().parents[1]
CPU_CONFIG = ROOT / "training" / "accelerate-cpu.yaml"
GPU_CONFIG = ROOT / "training" / "accelerate.yaml"

# LoRA, shared-prefix packing and a kept copy: what the relay recipe uses. fp32, so the comparison does not
# depend on whether the CPU has bf16. Global batch: 4 rows x 1 micro-batch x 2 processes = 8 rows per step.
RECIPE = """\
model_name_or_path: {model}
data_sources: ["synthetic:train"]
data_weights: [1.0]
synthetic_rows: 120
max_rows: 64
eval_fraction: 0.1
max_eval_rows: 8
max_length: 512
max_steps: 4
per_device_train_batch_size: 4
gradient_accumulation_steps: 1
learning_rate: 3.0e-2
eval_strategy: steps
eval_steps: 2
save_strategy: steps
save_steps: 2
logging_steps: 1
seed: 42
bf16: false
report_to: none
use_peft: true
lora_r: 4
lora_alpha: 8
lora_target_modules: all-linear
shared_prefix_packing: true
"""


def _free_port() -> int:
    with socket.socket() as s:  # a port of its own, so parallel runs (or another test job) do not collide
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(recipe: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(CPU_CONFIG),
           "--num_processes", "2", "--main_process_port", str(_free_port()),
           "-m", "training.train", "--config", str(recipe), "--output_dir", str(out), *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def _ok(run: subprocess.CompletedProcess) -> bool:
    return run.returncode == 0


def _why(run: subprocess.CompletedProcess) -> str:
    return f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"


def _losses(history: list[dict]) -> dict[int, float]:
    return {h["step"]: h["loss"] for h in history if "loss" in h}


@pytest.mark.slow
def test_two_cpu_processes_train_resume_and_match_one_process(tiny_model_dir, tmp_path):
    from nl2sql.backends.hf import generate
    from nl2sql.models import load
    from training.train import main

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(model=tiny_model_dir))
    out, kept = tmp_path / "two", tmp_path / "kept"

    first = _launch(recipe, out, "--keep_copy", str(kept))
    assert _ok(first), _why(first)
    for step in (2, 4):
        assert checkpoint_problem(out / f"checkpoint-{step}") is None, step
    two = json.loads((out / "log_history.json").read_text())
    assert sorted(_losses(two)) == [1, 2, 3, 4] and any("eval_loss" in h for h in two)
    status = json.loads((out / "relay.json").read_text())
    assert (status["step"], status["rows_seen"]) == (4, 4 * 8)  # rows per step count both processes
    assert status["legs"][0]["hardware"].endswith("x 2 processes")
    assert "32 seen" in (out / "README.md").read_text()
    kept_status = json.loads((kept / "relay.json").read_text())
    assert kept_status["step"] == 4 and (kept / "adapter_model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept", "recipe.yaml", "two"]  # no half-swapped copies

    second = _launch(recipe, out, "--keep_copy", str(kept), "--max_steps", "6", "--resume_from_checkpoint", "true")
    assert _ok(second), _why(second)
    state = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    resumed = _losses(state["log_history"])
    assert sorted(resumed) == [1, 2, 3, 4, 5, 6]  # leg 1's steps once, then 5 and 6: continued, not restarted
    assert all(resumed[s] == _losses(two)[s] for s in (1, 2, 3, 4))
    legs = json.loads((out / "relay.json").read_text())["legs"]
    assert [(g["from_step"], g["to_step"]) for g in legs] == [(0, 4), (4, 6)]
    assert json.loads((kept / "relay.json").read_text())["rows_seen"] == 6 * 8
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model_dir)
    trained = load(str(out), dtype="float32")
    assert "LoRA on" in trained.name and generate(trained, "How many?", max_new_tokens=3).new_tokens >= 1

    # One process, the same recipe and global batch (4 rows x 2 micro-batches): the same rows at every step,
    # since each of the 2 processes reads one of the micro-batches one process accumulates. What may differ is
    # the order of float sums (the gradients all-reduced over gloo, not accumulated; Adam divides by small
    # gradients, which magnifies it): measured at most 0.1% apart; a loss not scaled for the processes is 50% off.
    one_out = tmp_path / "one"
    assert main(["--config", str(recipe), "--output_dir", str(one_out), "--gradient_accumulation_steps", "2"]) == 0
    one = _losses(json.loads((one_out / "log_history.json").read_text()))
    two_losses = _losses(two)
    print(f"\nlosses, 1 process: {one}\nlosses, 2 processes: {two_losses}")
    assert sorted(one) == [1, 2, 3, 4]
    assert abs(one[1] - two_losses[1]) <= 1e-4 * one[1], (one, two_losses)  # no update yet: the same rows' loss
    assert all(abs(one[s] - two_losses[s]) <= 0.01 * one[s] for s in one), (one, two_losses)
    assert one[4] < one[1] and two_losses[4] < two_losses[1]  # both curves fall
    assert json.loads((one_out / "relay.json").read_text())["rows_seen"] == 4 * 8


def test_rows_per_step_counts_every_process():
    assert rows_per_step(4, 2) == 8  # one process
    assert rows_per_step(4, 1, 2) == rows_per_step(4, 2, 1)  # the same global batch, split over 2 processes
    assert rows_per_step(2, 8, 4) == 64
    assert rows_per_step(4, 2, 0) == 8  # no process count known: one


def test_continue_command_starts_as_many_processes():
    argv = ["--config", "r.yaml", "--resume_from_checkpoint", "true"]
    one = "python -m training.train --config r.yaml --resume_from_checkpoint true"
    assert continue_command(argv, launcher(1)) == one == continue_command(argv)
    assert continue_command(argv, launcher(2, cpu=True)) == (
        "accelerate launch --config_file training/accelerate-cpu.yaml --num_processes 2 -m training.train "
        "--config r.yaml --resume_from_checkpoint true")
    assert "--config_file training/accelerate.yaml --num_processes 8 " in continue_command(argv, launcher(8))
    assert (ROOT / launcher(2, cpu=True)[3]).is_file() and (ROOT / launcher(2)[3]).is_file()


def test_cpu_and_gpu_configs_differ_only_in_the_device():
    cpu, gpu = yaml.safe_load(CPU_CONFIG.read_text()), yaml.safe_load(GPU_CONFIG.read_text())
    assert cpu.keys() == gpu.keys()
    assert {k for k in cpu if cpu[k] != gpu[k]} <= {"use_cpu", "mixed_precision", "num_processes"}
    assert cpu["use_cpu"] is True and gpu["use_cpu"] is False
    # MULTI_GPU makes accelerate start the processes with torchrun; a MULTI_CPU config needs mpirun and a
    # hostfile, and without them starts one process, silently
    assert cpu["distributed_type"] == gpu["distributed_type"] == "MULTI_GPU"


def test_each_process_reads_whole_micro_batches_of_the_packed_order():
    """accelerate hands the processes whole micro-batches in turn: with shared-prefix packing each still holds
    rows of one prompt prefix, and the 2 processes' micro-batches of a step are the 2 one process accumulates."""
    from accelerate.data_loader import prepare_data_loader
    from torch.utils.data import DataLoader

    from training.packing import grouped_order

    keys = [f"schema {i % 5}" for i in range(40)]  # 5 schemas x 8 rows: micro-batches of 4 fill exactly
    order = grouped_order(keys, 4, seed=0)
    one = list(DataLoader(order, batch_size=4))  # the trainer reads the ordered rows sequentially
    shards = [list(prepare_data_loader(DataLoader(order, batch_size=4), num_processes=2, process_index=p,
                                       put_on_device=False)) for p in range(2)]
    for step, (first, second) in enumerate(zip(*shards)):
        assert first.tolist() == one[2 * step].tolist() and second.tolist() == one[2 * step + 1].tolist()
        assert all(len({keys[i] for i in batch.tolist()}) == 1 for batch in (first, second))
    assert sum(len(s) for s in shards) == len(one)


def test_only_the_first_process_writes_the_relay_record(tmp_path):
    from transformers import TrainerState

    args = SimpleNamespace(output_dir=str(tmp_path), max_steps=4)
    for zero in (False, True):
        callback = recorder(str(tmp_path), ["--config", "r.yaml"], 8, "cpu x 2 processes", None,
                            keep_copy=str(tmp_path / "kept"), start=launcher(2, cpu=True))
        state = TrainerState(global_step=2, max_steps=4, is_world_process_zero=zero)
        callback.on_train_begin(args, state, None)
        callback.on_save(args, state, None)
        callback.on_train_end(args, state, None)
        assert (tmp_path / "relay.json").is_file() is zero
    status = json.loads((tmp_path / "relay.json").read_text())
    assert status["rows_seen"] == 16 and status["continue"].startswith("accelerate launch --config_file")
