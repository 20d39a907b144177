"""What a training run leaves in its output directory besides the weights: the loss plot, the model card
(README.md) and the resolved configuration (run_config.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path


def plot_losses(log_history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h]
    evals = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for points, label in ((train, "train loss"), (evals, "eval loss")):
        if points:
            ax.plot(*zip(*points), marker="o" if len(points) < 30 else None, label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def model_card(info: dict) -> str:
    losses = info.get("losses", {})
    processes = info.get("processes", 1)  # the global batch: batch x grad-accum x processes
    seen = info['steps'] * info['batch'] * info['grad_accum'] * processes
    batch = f"batch {info['batch']} x grad-accum {info['grad_accum']}"
    batch += f" x {processes} processes" if processes > 1 else ""
    return f"""---
base_model: {info['base']}
library_name: {'peft' if info['lora'] else 'transformers'}
tags: [text-to-sql, sql, nl2sql]
license: apache-2.0
---

# {info['name']}

Text-to-SQL {'LoRA adapter' if info['lora'] else 'model'} fine-tuned from `{info['base']}` with the nl2sql recipe
`{info['recipe']}` (trl SFT; the loss falls on the SQL only; prompts built by `nl2sql.prompt`).

| | |
|---|---|
| data | {', '.join(f'{s} (weight {w})' for s, w in info['data'])} |
| rows | {info['train_rows']} in the mixture, {seen} seen (held out: {info['eval_rows']}) |
| steps | {info['steps']} ({batch}, lr {info['lr']}) |
| precision | {'bf16' if info['bf16'] else 'fp32'} |
| time | {info['minutes']:.1f} min on {info['hardware']} |
| final train loss | {losses.get('train', 'n/a')} |
| final eval loss | {losses.get('eval', 'n/a')} |

Spider data (Yu et al., 2018) is CC BY-SA 4.0. Load with `nl2sql.models.load("<this dir>")`.
![loss curve](loss.png)
"""


def write_config(output_dir: Path, *configs) -> None:
    resolved = {type(c).__name__: (c.to_dict() if hasattr(c, "to_dict") else asdict(c)) for c in configs}
    (output_dir / "run_config.json").write_text(json.dumps(resolved, indent=2, default=str))
