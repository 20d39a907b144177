"""python -m nl2sql.export --model models/nl2sql-smollm2-135m-lora --out runs/ft-gguf [--quant f16]

Export a model to GGUF for the llama.cpp backend: the packaged base, a full checkpoint, a hub id or
a LoRA adapter (merged into its base first, in fp32). The export dir holds `model.gguf`, the
tokenizer (the prompt is built and decoded with it, exactly as for transformers) and
`nl2sql_source.json` (display name, quantisation, what it came from).

Llama-architecture models with a byte-level BPE tokenizer (the SmolLM2 family) are supported;
written with the `gguf` package, so llama.cpp's own conversion scripts are not needed.
`cached_export(spec)` makes an export once per model content under the cache dir (file lock,
atomic rename): the llama.cpp backend calls it, and `--defaults` (run by `scripts/install.sh` and the
Dockerfile) makes it for the packaged base and the shipped adapter.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

# Measured (docs/backends-and-speed.md): F16 gives the same SQL as transformers fp32 on 99.5% of 200 Spider dev
# questions (fine-tuned) and 95.8% of 48 (base); Q8_0 68% (fine-tuned), Q4_1 48% (base), for 10-40% more speed.
DEFAULT_QUANT = "f16"
GGUF_NAME = "model.gguf"
_SMALL_FILE = 64 * 1024 * 1024  # files above this are fingerprinted by size + mtime, not content
_MODEL_FILES = {".json", ".safetensors", ".bin", ".txt", ".model", ".jinja"}  # not the card or plots


_FILE_TYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7}  # GGUF general.file_type of each
QUANTS = tuple(_FILE_TYPES)


def _ggml_type(quant: str):
    from gguf import GGMLQuantizationType

    return GGMLQuantizationType[quant.upper()]


class ExportError(ValueError):
    """A model this exporter cannot write (architecture, tokenizer), with what to do instead."""


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """HF's rotary layout -> llama.cpp's (interleaved) for q/k weights, as llama.cpp's converter does."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _arch_params(writer, config, name: str) -> None:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(getattr(config, "rope_theta", None)
                                    or (getattr(config, "rope_parameters", None) or {}).get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)


def _reference_pre(tokens: list[str]) -> str:
    """The packaged GGUF's pre-tokenizer name when the vocab is the SmolLM2 one, else llama.cpp's default."""
    from gguf import GGUFReader

    from nl2sql.models import ModelSpecError, packaged_gguf

    try:
        ref = GGUFReader(packaged_gguf())
    except ModelSpecError:
        return "default"
    same = ref.fields["tokenizer.ggml.tokens"].contents() == tokens
    return ref.fields["tokenizer.ggml.pre"].contents() if same else "default"


def _tokenizer_meta(writer, tokenizer, n_vocab: int, tok_dir: Path) -> None:
    import gguf

    if type(tokenizer.backend_tokenizer.model).__name__ != "BPE":
        raise ExportError("only byte-level BPE tokenizers (SmolLM2, GPT-2 style) can be exported here; "
                          "use llama.cpp's convert_hf_to_gguf.py for this model")
    specials = {i for i, t in tokenizer.added_tokens_decoder.items() if t.special}
    added = set(tokenizer.added_tokens_decoder)
    tokens, types = [], []
    for i in range(n_vocab):
        tok = tokenizer.convert_ids_to_tokens(i) if i < len(tokenizer) else f"[PAD{i}]"
        tokens.append(tok)
        kind = gguf.TokenType.CONTROL if i in specials else (
            gguf.TokenType.USER_DEFINED if i in added or i >= len(tokenizer) else gguf.TokenType.NORMAL)
        types.append(kind)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(_reference_pre(tokens))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    gguf.SpecialVocab(tok_dir, load_merges=True, n_vocab=n_vocab).add_to_gguf(writer)


def _tensors(model, quant: str):
    """(gguf name, array, ggml type) for every weight, llama.cpp's names, q/k permuted."""
    import gguf
    import torch

    config = model.config
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config.num_hidden_layers)
    qtype = _ggml_type(quant)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    for key, tensor in model.state_dict().items():
        if key == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd when there is no output tensor
        name = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ExportError(f"no llama.cpp name for tensor {key}; use llama.cpp's convert_hf_to_gguf.py")
        data = tensor.detach().to(torch.float32).cpu().numpy()
        if key.endswith("q_proj.weight"):
            data = _permute(data, config.num_attention_heads)
        elif key.endswith("k_proj.weight"):
            data = _permute(data, config.num_key_value_heads)
        yield name, data, qtype if data.ndim == 2 else gguf.GGMLQuantizationType.F32


def _encode(data: np.ndarray, qtype):
    """The tensor in `qtype`; rows that do not fill whole quant blocks fall back to f16."""
    import gguf
    from gguf import quants

    if qtype == gguf.GGMLQuantizationType.F32:
        return data, qtype
    if qtype == gguf.GGMLQuantizationType.F16:
        return data.astype(np.float16), qtype
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if data.shape[-1] % block:
        return data.astype(np.float16), gguf.GGMLQuantizationType.F16
    return quants.quantize(data, qtype), qtype


def write_gguf(lm, out: Path, quant: str = DEFAULT_QUANT) -> None:
    """Write the loaded transformers model `lm` (fp32) to `out`/model.gguf plus its tokenizer."""
    import gguf

    if quant not in QUANTS:
        raise ExportError(f"unknown quantisation {quant!r}; use one of {', '.join(QUANTS)}")
    config = lm.model.config
    if getattr(config, "model_type", "") != "llama":
        raise ExportError(f"model type {config.model_type!r} is not supported; only llama-architecture models "
                          "(SmolLM2); use llama.cpp's convert_hf_to_gguf.py")
    out.mkdir(parents=True, exist_ok=True)
    lm.tokenizer.save_pretrained(out)
    writer = gguf.GGUFWriter(out / GGUF_NAME, "llama")
    _arch_params(writer, config, lm.name)
    writer.add_file_type(_FILE_TYPES[quant])
    _tokenizer_meta(writer, lm.tokenizer, config.vocab_size, out)
    for name, data, qtype in _tensors(lm.model, quant):
        encoded, final = _encode(data, qtype)
        writer.add_tensor(name, encoded, raw_dtype=final)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    meta = {"name": lm.name, "quant": quant, "spec": lm.spec}  # the backend label adds the GGUF type
    (out / "nl2sql_source.json").write_text(json.dumps(meta, indent=2))


def export(spec: str, out: str | Path, quant: str = DEFAULT_QUANT) -> Path:
    """Load `spec` in fp32 (adapters merged) and write it to `out` atomically; returns `out`."""
    import torch

    from nl2sql.models import load

    out = Path(out)
    lm = load(spec, dtype=torch.float32, device="cpu")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    try:
        write_gguf(lm, tmp, quant)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def fingerprint(spec: str) -> str:
    """A short hash of what `spec` loads: file contents (size + mtime for big files), or the spec itself. The
    packaged file counts by its package's version, name and size, not its mtime: a reinstall (or the lean
    image's second environment) installs the same released file at another time."""
    from nl2sql.models import PACKAGED_DIST, packaged_gguf, resolve

    source = resolve(spec)
    h = hashlib.sha256(spec.encode())
    if source.kind == "packaged":
        gguf = packaged_gguf()
        h.update(f"{importlib.metadata.version(PACKAGED_DIST)}:{gguf.name}:{gguf.stat().st_size}".encode())
    paths = []
    if source.kind in ("adapter", "checkpoint"):
        paths = sorted(p for p in Path(source.location).iterdir() if p.is_file() and p.suffix in _MODEL_FILES)
    if source.kind == "adapter":
        h.update(fingerprint(source.base).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}".encode())
        h.update(str(st.st_mtime_ns).encode() if st.st_size > _SMALL_FILE else p.read_bytes())
    return h.hexdigest()[:16]


def cached_export(spec: str, quant: str = DEFAULT_QUANT) -> Path:
    """The export dir of `spec` under the cache, made on first use (safe across processes)."""
    from filelock import FileLock

    from nl2sql.models import cache_dir, resolve

    source = resolve(spec)
    stem = "packaged" if source.kind == "packaged" else Path(source.location).name.replace("/", "--")
    out = cache_dir() / "gguf" / f"{stem}-{fingerprint(spec)}-{quant}"
    if (out / GGUF_NAME).is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if not (out / GGUF_NAME).is_file():
            export(spec, out, quant)
    return out


def default_quant() -> str:
    """The GGUF type the llama.cpp backend loads unless told ($NL2SQL_GGUF_QUANT): F16, the faithful one."""
    return os.environ.get("NL2SQL_GGUF_QUANT") or DEFAULT_QUANT


def model_files(spec: str, quant: str) -> tuple[Path, Path, str]:
    """(gguf file, tokenizer dir, display name) for `spec` at `quant`, exporting into the cache if need be."""
    from nl2sql.models import PACKAGED, PACKAGED_NAME, packaged_checkpoint, packaged_gguf

    if spec == PACKAGED and quant == "q4_1":  # the shipped Q4_1 file: the very weights transformers dequantizes
        return packaged_gguf(), packaged_checkpoint(), PACKAGED_NAME.replace(", dequantized", "")
    out = cached_export(spec, quant)
    return out / GGUF_NAME, out, json.loads((out / "nl2sql_source.json").read_text())["name"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nl2sql.export", description=__doc__.split("\n\n")[1])
    p.add_argument("--model", help="packaged, a checkpoint or adapter dir, or a hub id")
    p.add_argument("--defaults", action="store_true",
                   help="export the app's default models (the packaged base and the shipped adapter) into the cache")
    p.add_argument("--out", help="export dir (default: the cache, where the llama.cpp backend looks)")
    p.add_argument("--quant", default=None, choices=QUANTS, help="default: what the llama.cpp backend loads")
    args = p.parse_args(argv)
    from nl2sql.models import PACKAGED, ModelSpecError, shipped_model

    if bool(args.model) == args.defaults or (args.defaults and args.out):
        p.error("give either --model SPEC [--out DIR] or --defaults")
    specs = [s for s in (PACKAGED, shipped_model()) if s] if args.defaults else [args.model]
    try:
        for spec in specs:
            quant = args.quant or default_quant()
            path = export(spec, args.out, quant) / GGUF_NAME if args.out else model_files(spec, quant)[0]
            print(f"{spec}: {path} ({path.stat().st_size / 1e6:.0f} MB, {quant})")
    except (ExportError, ModelSpecError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
