"""python -m training.merge --adapter models/nl2sql-smollm2-135m-lora --out runs/shipped-merged

A LoRA adapter merged into its base, written as a full checkpoint (fp32 weights and the tokenizer): a
starting point for runs that cannot continue the adapter itself, such as a full fine-tune or an adapter of
another rank warm-started from the shipped model (`--model_name_or_path runs/shipped-merged`). Such runs
ship through training.extract with `--base packaged`, so the extraction carries the shipped adapter's
change and the new one together.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def merge(adapter: str, out: str) -> Path:
    """Write `adapter` merged into its base at `out` (a checkpoint dir nl2sql.models.load and training read)."""
    import torch

    from nl2sql.models import ModelSpecError, load, resolve

    if resolve(adapter).kind != "adapter":
        raise ModelSpecError(f"{adapter} is not a LoRA adapter dir (no adapter_config.json)")
    lm = load(adapter, dtype=torch.float32, device="cpu")
    target = Path(out)
    lm.model.save_pretrained(str(target))
    lm.tokenizer.save_pretrained(str(target))
    (target / "nl2sql_source.json").write_text(json.dumps({"name": f"{Path(adapter).name} merged", "from": adapter}))
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.merge", description=__doc__.split("\n\n")[1])
    p.add_argument("--adapter", required=True, help="a LoRA adapter dir")
    p.add_argument("--out", required=True, help="the checkpoint dir to write")
    args = p.parse_args(argv)
    try:
        print(f"merged into {merge(args.adapter, args.out)}")
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
