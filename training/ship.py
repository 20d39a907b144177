"""python -m training.ship --adapter runs/lora-ship [--out models/nl2sql-smollm2-135m-lora] [--dtype float16]

Copy a trained LoRA adapter into models/ as the shipped artifact: the adapter config (its base named
by spec, e.g. `packaged`), the weights cast to fp16 (half the size; PEFT casts them back to the base
model's dtype on load), the run's log, config, loss plot and relay record (relay.json), and the run's
model card (README.md) unless the destination already has one (a hand-edited card with evaluation tables is kept).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from nl2sql.models import SHIPPED_ADAPTER

MAX_BYTES = 20_000_000
DEFAULT_OUT = SHIPPED_ADAPTER


def copy_adapter(src: Path, out: Path, dtype: torch.dtype = torch.float16) -> int:
    """Write the adapter (config + weights in `dtype`) to `out`; returns the weights' size in bytes."""
    if not (src / "adapter_config.json").is_file():
        raise FileNotFoundError(f"{src} holds no adapter_config.json: not a LoRA adapter dir")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(src / "adapter_config.json", out / "adapter_config.json")
    weights = {k: v.to(dtype) for k, v in load_file(src / "adapter_model.safetensors").items()}
    save_file(weights, out / "adapter_model.safetensors", metadata={"format": "pt"})
    for name in ("loss.png", "log_history.json", "run_config.json", "relay.json"):
        if (src / name).is_file():
            shutil.copy(src / name, out / name)
    size = (out / "adapter_model.safetensors").stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"the adapter is {size / 1e6:.1f} MB; the shipped artifact must stay under 20 MB")
    return size


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--adapter", type=Path, required=True, help="a LoRA adapter dir (a training output dir)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    args = p.parse_args(argv)
    try:
        size = copy_adapter(args.adapter, args.out, getattr(torch, args.dtype))
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if (args.adapter / "README.md").is_file() and not (args.out / "README.md").is_file():
        shutil.copy(args.adapter / "README.md", args.out / "README.md")
    base = json.loads((args.out / "adapter_config.json").read_text()).get("base_model_name_or_path")
    print(f"shipped {args.out} ({size / 1e6:.1f} MB, base {base})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
