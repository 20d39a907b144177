"""The training relay on the tiny model: warm start, resume past a corrupt checkpoint, relay.json."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from training.relay import (RelayError, checkpoint_problem, continue_command, copy_continue_command, pick_checkpoint,
                            relay_status, with_copy_command)
from training.train import main
from tests.test_train import _argv

LORA = ["--use_peft", "true", "--lora_r", "4", "--lora_alpha", "8", "--lora_target_modules", "all-linear"]


def _lora_weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path / "adapter_model.safetensors")


@pytest.fixture(scope="module")
def first_leg(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("relay") / "run"
    assert main(_argv(tiny_model_dir, out, *LORA, "--max_steps", "4", "--save_steps", "2",
                      "--keep_copy", str(out.parent / "kept"))) == 0
    return out


def test_keep_copy_holds_the_newest_adapter_in_fp16_and_continues(first_leg, tiny_model_dir, tmp_path):
    kept = first_leg.parent / "kept"
    assert sorted(p.name for p in first_leg.parent.iterdir()) == ["kept", "run"]  # no temp dirs left behind
    weights, newest = _lora_weights(kept), _lora_weights(first_leg / "checkpoint-4")
    assert weights.keys() == newest.keys()
    assert all(w.dtype == torch.float16 and torch.equal(w, newest[k].half()) for k, w in weights.items())
    assert json.loads((kept / "adapter_config.json").read_text())["base_model_name_or_path"] == str(tiny_model_dir)
    kept_status = json.loads((kept / "relay.json").read_text())
    assert kept_status["step"] == 4 and kept_status["done"] is True  # the schedule's last step: nothing to continue
    assert kept_status["continue"] is None and kept_status["continue_from_copy"] is None
    out = tmp_path / "next"
    assert main(_argv(tiny_model_dir, out, *LORA, "--max_steps", "1", "--warm_start", str(kept))) == 0
    status = json.loads((out / "relay.json").read_text())  # the kept copy's 4 steps count as this run's
    assert (status["step"], status["rows_seen"], len(status["legs"])) == (5, 10, 2)


def test_keep_copy_needs_a_lora_run(tiny_model_dir, tmp_path):
    with pytest.raises(RelayError, match="--keep_copy keeps a LoRA adapter"):
        main(_argv(tiny_model_dir, tmp_path / "full", "--keep_copy", str(tmp_path / "kept")))


def test_relay_json_says_where_the_run_stands(first_leg):
    status = json.loads((first_leg / "relay.json").read_text())
    assert status["step"] == 4 and status["max_steps"] == 4 and status["rows_seen"] == 4 * 2
    assert len(status["legs"]) == 1 and status["legs"][0]["from_step"] == 0 and status["legs"][0]["to_step"] == 4
    assert status["done"] is True and status["continue"] is None  # its last step is saved: a finished run


def test_resume_true_skips_a_corrupt_newest_checkpoint(first_leg, tiny_model_dir, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(first_leg, run)
    newest = run / "checkpoint-4"
    weights = newest / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # a save cut short by a killed process
    assert "unreadable" in checkpoint_problem(newest)
    assert pick_checkpoint(run) == run / "checkpoint-2"
    assert main(_argv(tiny_model_dir, run, *LORA, "--max_steps", "5", "--save_steps", "2",
                      "--resume_from_checkpoint", "true")) == 0
    assert "skipping" in capsys.readouterr().err
    status = json.loads((run / "relay.json").read_text())
    assert status["step"] == 5 and [g["from_step"] for g in status["legs"]] == [0, 2]


def test_resume_from_a_named_corrupt_checkpoint_is_refused(first_leg, tmp_path, tiny_model_dir):
    bad = tmp_path / "checkpoint-9"
    bad.mkdir()
    (bad / "trainer_state.json").write_text("{")
    with pytest.raises(RelayError, match="trainer_state.json unreadable"):
        main(_argv(tiny_model_dir, tmp_path / "x", *LORA, "--resume_from_checkpoint", str(bad)))


def test_warm_start_continues_the_adapter_with_a_fresh_schedule(first_leg, tiny_model_dir, tmp_path):
    out = tmp_path / "warm"
    assert main(_argv(tiny_model_dir, out, *LORA, "--max_steps", "1", "--learning_rate", "1e-9",
                      "--warm_start", str(first_leg))) == 0
    before, after = _lora_weights(first_leg), _lora_weights(out)
    assert before.keys() == after.keys()
    # lr 1e-9 for one step: the new adapter is the warm start's, not a fresh (zero-B) initialisation.
    assert all(torch.allclose(before[k], after[k], atol=1e-5) for k in before)
    assert any(k for k in before if "lora_B" in k and before[k].abs().sum() > 0)
    history = json.loads((out / "log_history.json").read_text())
    assert [h["step"] for h in history if "loss" in h] == [1]  # step count starts again
    assert json.loads((out / "relay.json").read_text())["warm_start"] == str(first_leg)


@pytest.mark.parametrize("extra,message", [(["--lora_r", "8"], "rank 4"), ([], "--use_peft true")])
def test_warm_start_from_an_adapter_that_does_not_fit_is_refused(first_leg, tiny_model_dir, tmp_path, extra, message):
    flags = [*LORA, *extra] if extra else []
    with pytest.raises(RelayError, match=message):
        main(_argv(tiny_model_dir, tmp_path / "x", *flags, "--warm_start", str(first_leg)))


def test_warm_start_from_another_base_is_refused(first_leg, tiny_plain_model_dir, tmp_path):
    with pytest.raises(RelayError, match="base"):
        main(_argv(tiny_plain_model_dir, tmp_path / "x", *LORA, "--warm_start", str(first_leg)))


def test_continue_command_replaces_any_resume_flag():
    argv = ["--config", "r.yaml", "--resume_from_checkpoint", "runs/x/checkpoint-5", "--max_steps", "9"]
    assert continue_command(argv) == ("python -m training.train --config r.yaml --max_steps 9 "
                                      "--resume_from_checkpoint true")


def test_copy_continue_command_warm_starts_from_the_copy_with_the_steps_left():
    argv = ["--config", "r.yaml", "--warm_start", "models/a", "--max_steps=1990", "--seed", "750",
            "--resume_from_checkpoint", "true", "--lora_r", "16"]
    assert copy_continue_command(argv, "training/checkpoints/relay", 1490, 1250) == (
        "python -m training.train --config r.yaml --lora_r 16 --warm_start training/checkpoints/relay "
        "--max_steps 1490 --seed 1250")


def test_copy_command_only_while_steps_are_left():
    argv = ["--config", "r.yaml", "--seed", "1"]
    running = relay_status({}, {"id": "a", "minutes": 1.0}, 50, 16, 100, "cmd", origin={"step": 1000})
    assert running["done"] is False and running["continue"] == "cmd"
    assert with_copy_command(running, argv, "kept")["continue_from_copy"] == (
        "python -m training.train --config r.yaml --warm_start kept --max_steps 50 --seed 1050")
    finished = relay_status({}, {"id": "a", "minutes": 1.0}, 100, 16, 100, "cmd")
    assert finished["done"] is True and finished["continue"] is None
    assert with_copy_command(finished, argv, "kept")["continue_from_copy"] is None


def test_relay_status_adds_up_the_legs():
    first = relay_status({}, {"id": "a", "minutes": 10.0, "from_step": 0, "to_step": 50}, 50, 16, 100, "cmd")
    second = relay_status(first, {"id": "b", "minutes": 5.5, "from_step": 50, "to_step": 70}, 70, 16, 100, "cmd")
    assert (second["step"], second["rows_seen"], second["minutes"]) == (70, 1120, 15.5)
    again = relay_status(second, {"id": "b", "minutes": 6.0, "from_step": 50, "to_step": 75}, 75, 16, 100, "cmd")
    assert len(again["legs"]) == 2 and again["minutes"] == 16.0


def test_relay_status_continues_the_record_of_the_copy_it_warm_started_from():
    kept = relay_status({}, {"id": "a", "minutes": 180.0, "from_step": 0, "to_step": 650}, 650, 16, 2640, "cmd")
    kept["warm_start"] = "models/shipped"
    leg = {"id": "b", "minutes": 15.0, "from_step": 0, "to_step": 50, "warm_start": "training/checkpoints/relay"}
    first = relay_status({}, leg, 50, 16, 1990, "cmd", origin=kept)
    assert (first["step"], first["max_steps"], first["rows_seen"], first["minutes"]) == (700, 2640, 11200, 195.0)
    assert [(g["id"], g["from_step"], g["to_step"]) for g in first["legs"]] == [("a", 0, 650), ("b", 650, 700)]
    assert first["warm_start"] == "models/shipped"
    # the kept copy is rewritten by this run meanwhile: a resumed leg still counts from the origin it began with
    newer = dict(first, step=800)
    resumed = relay_status(first, {"id": "c", "minutes": 5.0, "from_step": 50, "to_step": 60}, 60, 16, 1990, "cmd",
                           origin=newer)
    assert (resumed["step"], resumed["rows_seen"], resumed["minutes"]) == (710, 11360, 200.0)
    assert [g["id"] for g in resumed["legs"]] == ["a", "b", "c"] and resumed["legs"][-1]["from_step"] == 700
    # a copy kept from a warm-started run nests no origins
    again = relay_status({}, {"id": "d", "minutes": 1.0}, 10, 16, 100, "cmd", origin=resumed)
    assert again["step"] == 720 and "origin" not in again["origin"]


def test_committed_adapters_carry_their_weights():
    """Every adapter dir in the repository has its weights beside its config: a .gitignore rule once kept
    training/checkpoints/relay-step400's safetensors out of git while its config went in, so a lost runs/
    lost the adapter too. On a clean clone (CI) this fails if weights are ignored again."""
    root = Path(__file__).resolve().parents[1]
    configs = [p for d in ("models", "training/checkpoints") for p in (root / d).glob("**/adapter_config.json")]
    assert configs, "the shipped adapter's config should be found"
    missing = [str(p.parent.relative_to(root)) for p in configs if not (p.parent / "adapter_model.safetensors").is_file()]
    assert not missing, f"adapter dirs without adapter_model.safetensors: {missing}"
