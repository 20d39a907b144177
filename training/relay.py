"""A training run that continues across interrupted processes ("legs").

Three pieces, used by training/train.py:
- `RelayArguments.warm_start`: start from a committed LoRA adapter's weights (fresh optimizer and
  schedule), so a run can go on even when runs/ (its checkpoints) was lost. An adapter of another rank,
  target modules or base is refused with a clear message.
- `pick_checkpoint`: what `--resume_from_checkpoint true` resumes from: the newest checkpoint that is
  complete and readable; a truncated or corrupt one is reported and the previous one is used.
- `RelayRecorder`: after every save, `relay.json` in output_dir says where the run stands (steps, rows
  seen, minutes over all legs, hardware of each leg) and the command that continues it (in the kept copy also
  `continue_from_copy`, the command for when output_dir is lost; both null and `done` true once the
  schedule's last step is saved); a warm start from
  a kept copy carries that copy's record on (its steps and legs count as the run's); with
  `RelayArguments.keep_copy` it also keeps the newest adapter in fp16 where git tracks it (`keep_checkpoint`).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RELAY_FILE = "relay.json"
_STEP = re.compile(r"^checkpoint-(\d+)$")


class RelayError(ValueError):
    """A warm start or a resume that cannot be done as asked."""


@dataclass
class RelayArguments:
    warm_start: str | None = field(default=None, metadata={
        "help": "a LoRA adapter dir (e.g. models/nl2sql-smollm2-135m-lora) whose weights start this run; "
                "optimizer and schedule start fresh. Needs use_peft with the adapter's rank and base."})
    keep_copy: str | None = field(default=None, metadata={
        "help": "after every save, also write the newest checkpoint's adapter (fp16) and relay.json to this dir "
                "(e.g. training/checkpoints/relay, which git tracks): commit it, and a lost output_dir costs only "
                "the optimizer state; --warm_start DIR --max_steps LEFT continues from it. LoRA runs only."})


# ---------------------------------------------------------------- warm start

def check_warm_start(adapter_dir: str, model_args) -> dict:
    """The adapter's config, or RelayError when it cannot seed a run shaped by `model_args`."""
    cfg_path = Path(adapter_dir) / "adapter_config.json"
    if not cfg_path.is_file():
        raise RelayError(f"--warm_start {adapter_dir}: no adapter_config.json there (a LoRA adapter dir is needed)")
    if not (Path(adapter_dir) / "adapter_model.safetensors").is_file():
        raise RelayError(f"--warm_start {adapter_dir}: adapter_model.safetensors is missing")
    cfg = json.loads(cfg_path.read_text())
    if not model_args.use_peft:
        raise RelayError("--warm_start continues a LoRA adapter: add --use_peft true (and its lora_r)")
    problems = []
    if cfg.get("r") != model_args.lora_r:
        problems.append(f"rank {cfg.get('r')} (this run: lora_r {model_args.lora_r})")
    if cfg.get("base_model_name_or_path") != model_args.model_name_or_path:
        problems.append(f"base {cfg.get('base_model_name_or_path')!r} (this run: {model_args.model_name_or_path!r})")
    if problems:
        raise RelayError(f"--warm_start {adapter_dir} does not fit this run: the adapter has " + ", ".join(problems))
    return cfg


def warm_started_model(model, adapter_dir: str):
    """`model` with the adapter's weights attached, trainable (its own LoRA settings: rank, alpha, targets)."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)


# ---------------------------------------------------------------- resume

def checkpoint_problem(path: Path) -> str | None:
    """Why a checkpoint dir cannot be resumed from, or None when it is complete and readable."""
    state = path / "trainer_state.json"
    try:
        json.loads(state.read_text())
    except (OSError, ValueError) as e:
        return f"trainer_state.json unreadable ({type(e).__name__})"
    weights = [p for p in (path / "adapter_model.safetensors", path / "model.safetensors") if p.is_file()]
    if not weights:
        return "no adapter_model.safetensors or model.safetensors"
    try:
        from safetensors import safe_open

        with safe_open(str(weights[0]), "pt") as f:
            for key in f.keys():
                f.get_tensor(key)
    except Exception as e:  # safetensors raises its own error types for truncated files
        return f"{weights[0].name} unreadable ({type(e).__name__}: {str(e)[:80]})"
    if not (path / "optimizer.pt").is_file():
        return "optimizer.pt is missing"
    return None


def checkpoints(output_dir: Path) -> list[Path]:
    """checkpoint-N dirs of output_dir, newest (highest N) first."""
    found = [(int(m.group(1)), p) for p in Path(output_dir).glob("checkpoint-*") if (m := _STEP.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def pick_checkpoint(output_dir: Path, log=lambda msg: print(msg, file=sys.stderr)) -> Path | None:
    """The newest usable checkpoint in output_dir (None when there is none), reporting the ones skipped."""
    for path in checkpoints(output_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        log(f"skipping {path}: {problem}; trying the previous checkpoint")
    return None


def resume_target(resume, output_dir: str):
    """trainer.train's resume_from_checkpoint for the CLI value: 'true' -> newest usable checkpoint."""
    if resume in (None, "", "false", "False", False):
        return None
    if resume in ("true", "True", True):
        found = pick_checkpoint(Path(output_dir))
        if found is None:
            print(f"no usable checkpoint in {output_dir}: starting this run from its first step", file=sys.stderr)
        return str(found) if found else None
    problem = checkpoint_problem(Path(resume))
    if problem:
        raise RelayError(f"cannot resume from {resume}: {problem}")
    return str(resume)


# ---------------------------------------------------------------- progress record

def _without(argv: list[str], flags: set[str]) -> list[str]:
    """`argv` without `flags`, each in either form (`--flag value` or `--flag=value`)."""
    args, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in flags:
            skip = True
        elif a.split("=", 1)[0] not in flags:
            args.append(a)
    return args


def launcher(processes: int = 1, cpu: bool = False) -> list[str]:
    """What starts training.train again: python for one process; for several, accelerate launch with the
    repository's config for GPUs or CPU processes (on several machines: run it on each, with the machine flags)."""
    if processes <= 1:
        return ["python", "-m", "training.train"]
    config = "training/accelerate-cpu.yaml" if cpu else "training/accelerate.yaml"
    return ["accelerate", "launch", "--config_file", config, "--num_processes", str(processes), "-m", "training.train"]


def continue_command(argv: list[str], start: list[str] | None = None) -> str:
    """The command that continues this run: the same arguments with --resume_from_checkpoint true, started by
    `start` (see launcher; python for one process)."""
    args = _without(argv, {"--resume_from_checkpoint"})
    return shlex.join([*(start or launcher()), *args, "--resume_from_checkpoint", "true"])


def copy_continue_command(argv: list[str], keep_copy: str, steps_left: int, step: int,
                          start: list[str] | None = None) -> str:
    """The command that continues the run from its kept copy when output_dir (its checkpoints) is lost: the same
    arguments with --warm_start KEEP_COPY, --max_steps STEPS_LEFT and --seed STEP (so the new leg's data order
    differs from the one the lost leg saw) in place of theirs and of any resume flag."""
    args = _without(argv, {"--resume_from_checkpoint", "--warm_start", "--max_steps", "--seed"})
    return shlex.join([*(start or launcher()), *args, "--warm_start", keep_copy,
                       "--max_steps", str(steps_left), "--seed", str(step)])


def with_copy_command(status: dict, argv: list[str], keep_copy: str, start: list[str] | None = None) -> dict:
    """Pure: `status` with `continue_from_copy`, the command that goes on from the kept copy (None when done)."""
    left = status["max_steps"] - status["step"]
    return dict(status, continue_from_copy=copy_continue_command(argv, keep_copy, left, status["step"], start)
                if left > 0 else None)


def read_relay(output_dir: Path) -> dict:
    try:
        return json.loads((Path(output_dir) / RELAY_FILE).read_text())
    except (OSError, ValueError):
        return {}


def rows_per_step(per_device_batch: int, grad_accum: int, processes: int = 1) -> int:
    """Rows one optimizer step trains on: the global batch. Every process (a GPU, or a share of a CPU) takes its
    own `per_device_batch` rows per micro-batch, `grad_accum` micro-batches a step, and the gradients are averaged."""
    return per_device_batch * grad_accum * max(1, processes)


def relay_status(previous: dict, leg: dict, step: int, rows_per_step: int, max_steps: int, command: str,
                 origin: dict | None = None) -> dict:
    """Pure: the run's standing after `step`, with this leg's entry (start step, hardware, minutes) updated.

    `origin` is the record of the copy this run warm-started from (a kept copy's relay.json), read when the run
    began: its steps, rows, minutes and legs count as the run's own, so a relay continued from git after its
    checkpoints were lost still adds up. A resumed leg keeps the origin its run began with (`previous`)."""
    origin = previous.get("origin", {}) if previous else {k: v for k, v in (origin or {}).items() if k != "origin"}
    offset = origin.get("step", 0)
    leg = dict(leg, from_step=leg.get("from_step", 0) + offset, to_step=leg.get("to_step", step) + offset)
    earlier = previous.get("legs", []) if previous else origin.get("legs", [])
    legs = [g for g in earlier if g.get("id") != leg["id"]] + [leg]
    status = {"step": offset + step, "max_steps": offset + max_steps,
              "rows_seen": origin.get("rows_seen", 0) + step * rows_per_step,
              "warm_start": origin.get("warm_start") or previous.get("warm_start", leg.get("warm_start")),
              "minutes": round(sum(g["minutes"] for g in legs), 1), "legs": legs,
              "done": step >= max_steps, "continue": None if step >= max_steps else command,
              "updated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if origin:
        status["origin"] = origin
    return status


def keep_checkpoint(checkpoint: Path, out: Path, base: str, status: dict) -> Path:
    """Write `checkpoint`'s adapter in fp16 to `out`, its config naming `base` by spec, with `status` as
    relay.json beside it. Written to a sibling temp dir and swapped in, so a process killed meanwhile
    leaves the previous copy whole."""
    from training.ship import copy_adapter

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    copy_adapter(Path(checkpoint), tmp)
    cfg_path = tmp / "adapter_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["base_model_name_or_path"] = base
    cfg_path.write_text(json.dumps(cfg, indent=2))
    (tmp / RELAY_FILE).write_text(json.dumps(status, indent=2))
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def recorder(output_dir: str, argv: list[str], rows_per_step: int, hardware: str, warm_start: str | None,
             keep_copy: str | None = None, base: str | None = None, start: list[str] | None = None):
    """A TrainerCallback that rewrites relay.json at every save and at the end of training, and with
    `keep_copy` keeps the newest checkpoint's adapter there (see keep_checkpoint). `rows_per_step` is the global
    batch (see rows_per_step); `start` starts the commands it records (see launcher). With several processes only
    the first one writes (the others return at once)."""
    from transformers import TrainerCallback

    origin = read_relay(Path(warm_start)) if warm_start else {}  # read before a keep_copy can overwrite it

    class RelayRecorder(TrainerCallback):
        def __init__(self):
            self.start = time.time()
            self.leg = {"id": time.strftime("%Y%m%dT%H%M%S"), "hardware": hardware, "warm_start": warm_start}

        def write(self, state, args):
            self.leg.update(to_step=state.global_step, minutes=round((time.time() - self.start) / 60, 1))
            status = relay_status(read_relay(Path(output_dir)), dict(self.leg), state.global_step, rows_per_step,
                                  args.max_steps, continue_command(argv, start), origin)
            (Path(output_dir) / RELAY_FILE).write_text(json.dumps(status, indent=2))
            return status

        def on_train_begin(self, args, state, control, **kwargs):
            self.leg["from_step"] = state.global_step  # a resumed leg starts at its checkpoint's step

        def on_save(self, args, state, control, **kwargs):
            if not state.is_world_process_zero:
                return
            status = self.write(state, args)
            checkpoint = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if keep_copy and (checkpoint / "adapter_model.safetensors").is_file():
                status = with_copy_command(status, argv, keep_copy, start)
                keep_checkpoint(checkpoint, Path(keep_copy), base, status)

        def on_train_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.write(state, args)

    return RelayRecorder()
