"""python -m training.train --config training/configs/default.yaml [--any_field value ...]

Supervised fine-tuning with trl's SFTTrainer. Arguments are dataclasses parsed by trl.TrlParser
(YAML recipe + CLI overrides): DataArguments (training/sft.py), SFTConfig (trl) and ModelConfig
(trl: model_name_or_path, use_peft, lora_*). Prompts come from nl2sql.prompt, so training and serving
share one format; the loss falls on the SQL only. bf16 follows the hardware unless set.

Several processes (GPUs, CPU processes, machines): accelerate launch --config_file training/accelerate.yaml (GPUs) or
training/accelerate-cpu.yaml (CPU processes, gloo) -m training.train --config ...; see docs/training.md.
Resume: add --resume_from_checkpoint true (newest usable checkpoint in output_dir) or a checkpoint path.
Warm start: --warm_start models/nl2sql-smollm2-135m-lora (a committed adapter's weights, fresh optimizer
and schedule) continues a run whose checkpoints are gone. Every save rewrites output_dir/relay.json: the
run's steps, rows seen, minutes per leg and hardware, and the command that continues it (training/relay.py);
--keep_copy training/checkpoints/relay also keeps the newest adapter (fp16) there, for git.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from training.extract import FullTuneArguments, freeze_all_but_linear
from training.artifacts import model_card, plot_losses, write_config
from training.sft import (DataArguments, base_location, completion_only_loss, detect_hardware, hardware_label,
                          load_mixture, to_dataset)
from training.relay import (RelayArguments, RelayError, check_warm_start, launcher, recorder, resume_target,
                            rows_per_step, warm_started_model)


def parse(argv: list[str]):
    """(DataArguments, SFTConfig, ModelConfig, RelayArguments, FullTuneArguments): the detected hardware's settings
    (training.sft.Hardware) are the parser's defaults, the recipe's values replace them and the command
    line replaces both; SFTConfig then validates the result."""
    from dataclasses import asdict

    import torch
    from trl import ModelConfig, SFTConfig, TrlParser

    parser = TrlParser((DataArguments, SFTConfig, ModelConfig, RelayArguments, FullTuneArguments))
    parser.set_defaults_with_config(**asdict(detect_hardware(torch.cuda.is_available())))
    return parser.parse_args_and_config(argv)


def build_model(model_args, sft_args):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    location = base_location(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(location)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Weights stay fp32; bf16 (where detected) runs as autocast mixed precision.
    model = AutoModelForCausalLM.from_pretrained(location, dtype="float32")
    return model, tokenizer


def peft_config(model_args, relay_args=None):
    if not model_args.use_peft or (relay_args is not None and relay_args.warm_start):
        return None  # a warm start brings its own adapter (checked against lora_r and the base)
    from trl import get_peft_config

    return get_peft_config(model_args)


def finalize(trainer, data_args, sft_args, model_args, *configs, info: dict) -> None:
    """Save weights + tokenizer, and the run's artifacts, so the dir loads with nl2sql.models.load. Every process
    calls it (saving a distributed model may need them all); the first process alone writes the other files."""
    out = Path(sft_args.output_dir)
    trainer.save_model(str(out))
    if trainer.is_world_process_zero():
        write_artifacts(trainer, out, data_args, sft_args, model_args, *configs, info=info)
    if sft_args.push_to_hub:
        trainer.push_to_hub()  # every process too: it saves again, then the first one uploads


def write_artifacts(trainer, out: Path, data_args, sft_args, model_args, *configs, info: dict) -> None:
    """The tokenizer, the adapter's base by spec, log_history.json, loss.png, the model card and run_config.json."""
    trainer.processing_class.save_pretrained(str(out))
    adapter_cfg = out / "adapter_config.json"
    if adapter_cfg.is_file():  # name the base by its spec (e.g. "packaged"), not a cache path
        cfg = json.loads(adapter_cfg.read_text())
        cfg["base_model_name_or_path"] = model_args.model_name_or_path
        adapter_cfg.write_text(json.dumps(cfg, indent=2))
    else:
        (out / "nl2sql_source.json").write_text(json.dumps({"name": f"{out.name} (fine-tuned {model_args.model_name_or_path})"}))
    history = trainer.state.log_history
    (out / "log_history.json").write_text(json.dumps(history, indent=2))
    plot_losses(history, out / "loss.png")
    train_losses = [h["loss"] for h in history if "loss" in h]
    eval_losses = [h["eval_loss"] for h in history if "eval_loss" in h]
    info["losses"] = {"train": round(train_losses[-1], 4) if train_losses else None,
                      "eval": round(eval_losses[-1], 4) if eval_losses else None}
    info["steps"] = trainer.state.global_step
    (out / "README.md").write_text(model_card(info))
    write_config(out, data_args, sft_args, model_args, *configs)


def packed_data(train_ds, tokenizer, sft_args):
    """(train rows in an order that puts rows of one prompt prefix into the same micro-batch, for as many
    epochs as the run needs; the packing collator). The trainer then reads them in that order."""
    import math

    from training.packing import PackingCollator, grouped_order, prefix_key

    # Each process reads whole micro-batches of this order in turn (accelerate shards the batches, not the rows),
    # so a micro-batch stays one group with several processes too; a step reads rows_per_step rows of it.
    step_rows = rows_per_step(sft_args.per_device_train_batch_size, sft_args.gradient_accumulation_steps,
                              sft_args.world_size)
    epochs = math.ceil(sft_args.max_steps * step_rows / len(train_ds)) if sft_args.max_steps > 0 \
        else math.ceil(sft_args.num_train_epochs)
    order = grouped_order([prefix_key(p) for p in train_ds["prompt"]], sft_args.per_device_train_batch_size,
                          sft_args.seed, epochs)
    sft_args.train_sampling_strategy = "sequential"
    if sft_args.max_steps <= 0:
        sft_args.num_train_epochs = 1  # the order already holds every epoch
    return train_ds.select(order), PackingCollator(tokenizer.pad_token_id)


def trainer_class():
    """SFTTrainer with the cheaper completion-only loss (see training.sft.completion_only_loss)."""
    from trl import SFTTrainer

    class CompletionOnlySFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = completion_only_loss(model, inputs, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                # num_items_in_batch counts every process's tokens and the gradients are averaged over the
                # processes: scale back up, as Trainer.compute_loss does (else the loss and the step shrink N-fold)
                loss = loss * self.accelerator.num_processes
            return (loss, {"loss": loss}) if return_outputs else loss

    return CompletionOnlySFTTrainer


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    data_args, sft_args, model_args, relay_args, full_args = parse(argv)
    sft_args.prediction_loss_only = True  # evaluation needs the loss only
    resume = resume_target(sft_args.resume_from_checkpoint, sft_args.output_dir)
    if relay_args.warm_start:
        check_warm_start(relay_args.warm_start, model_args)
    if relay_args.keep_copy and not model_args.use_peft:
        raise RelayError("--keep_copy keeps a LoRA adapter: it needs --use_peft true")
    if full_args.linear_only and model_args.use_peft:
        raise RelayError("--linear_only is for full fine-tunes: add --use_peft false")

    model, tokenizer = build_model(model_args, sft_args)
    if full_args.linear_only:
        trainable = freeze_all_but_linear(model)
        print(f"--linear_only: {trainable:,} parameters train (the target linear layers' weights)", file=sys.stderr)
    if relay_args.warm_start:
        model = warm_started_model(model, relay_args.warm_start)
    train_rows, eval_rows = load_mixture(data_args, sft_args.seed)
    train_ds = to_dataset(train_rows, tokenizer, data_args, sft_args.seed, sft_args.max_length)
    eval_ds = to_dataset(eval_rows, tokenizer, data_args, sft_args.seed, sft_args.max_length) if eval_rows else None
    if eval_ds is None:
        sft_args.eval_strategy = "no"
    collator = None
    if data_args.shared_prefix_packing:
        train_ds, collator = packed_data(train_ds, tokenizer, sft_args)
    Path(sft_args.output_dir).mkdir(parents=True, exist_ok=True)
    if sft_args.process_index == 0:
        write_config(Path(sft_args.output_dir), data_args, sft_args, model_args, relay_args, full_args)
    processes, hardware = sft_args.world_size, hardware_label(sft_args.world_size, sft_args.use_cpu)
    relay = recorder(sft_args.output_dir, argv, rows_per_step(sft_args.per_device_train_batch_size,
                     sft_args.gradient_accumulation_steps, processes), hardware, relay_args.warm_start,
                     relay_args.keep_copy, model_args.model_name_or_path, launcher(processes, sft_args.use_cpu))
    trainer = trainer_class()(model=model, args=sft_args, train_dataset=train_ds, eval_dataset=eval_ds,
                              processing_class=tokenizer, peft_config=peft_config(model_args, relay_args),
                              callbacks=[relay], data_collator=collator)
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    info = {"name": Path(sft_args.output_dir).name, "base": model_args.model_name_or_path, "lora": model_args.use_peft,
            "recipe": next((argv[i + 1] for i, a in enumerate(argv) if a == "--config"), "command line"),
            "data": list(zip(data_args.data_sources, data_args.data_weights)), "train_rows": len(train_ds),
            "eval_rows": len(eval_ds) if eval_ds is not None else 0, "batch": sft_args.per_device_train_batch_size,
            "grad_accum": sft_args.gradient_accumulation_steps, "lr": sft_args.learning_rate, "bf16": sft_args.bf16,
            "processes": processes, "minutes": (time.perf_counter() - start) / 60, "hardware": hardware}
    finalize(trainer, data_args, sft_args, model_args, relay_args, full_args, info=info)
    if trainer.is_world_process_zero():
        print(f"saved to {sft_args.output_dir} ({info['steps']} steps, {info['minutes']:.1f} min)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RelayError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
