"""The pieces of an SFT run that train.py wires together: data arguments, the data mixture, prompt/
completion pairs from nl2sql.prompt, hardware-dependent settings and the loss (the run's artifacts: artifacts.py)."""

from __future__ import annotations

import platform
import random
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from nl2sql.data import golds, load_rows, mix, split_holdout
from nl2sql.joins import strip_foreign_keys, with_inferred_keys
from nl2sql.link import link
from nl2sql.models import bf16_supported, cpu_flags, cpu_name, packaged_checkpoint, resolve
from nl2sql.preparation import prompt_for
from nl2sql.values import linked_tables
from nl2sql.prompt import build_prompt, completion
from nl2sql.schema import Schema, SchemaError, parse_schema, prepare_schema


@dataclass
class DataArguments:
    """What to train on. Each source is an nl2sql.data spec; its weight scales how many of its rows are used."""

    data_sources: list[str] = field(default_factory=lambda: ["synthetic:train"])
    data_weights: list[float] = field(default_factory=lambda: [1.0])
    data_split: str = field(default="train", metadata={"help": "split of hub sources"})
    synthetic_rows: int = field(default=20000, metadata={"help": "rows drawn from a synthetic source"})
    join_row_weight: float = field(default=1.0, metadata={
        "help": "rows whose gold query joins tables count this many times in each source's share (2: seen twice)"})
    multi_join_row_weight: float | None = field(default=None, metadata={
        "help": "rows whose gold query has two or more JOINs count this many times (unset: join_row_weight)"})
    synthetic_join_boost: float = field(default=1.0, metadata={
        "help": "synthetic sources: join questions (single and multiple joins) this many times as common"})
    eval_fraction: float = field(default=0.02, metadata={"help": "held out from each source (by schema)"})
    max_eval_rows: int = field(default=200, metadata={"help": "cap on held-out rows per source"})
    schema_in_prompt: bool = field(default=True, metadata={"help": "False reproduces the question-only seed"})
    prune_extra_tables: int = field(default=-1, metadata={
        "help": "-1 keeps every table; k keeps the tables the gold SQL uses plus k random others (cheaper rows)"})
    full_schema_fraction: float = field(default=0.0, metadata={
        "help": "with pruning on, this share of rows still shows the whole schema (as serving does)"})
    link_tables: bool = field(default=False, metadata={
        "help": "show the tables schema linking (nl2sql.link) chooses, gold tables always kept: what serving "
                "shows; replaces the random extra tables of prune_extra_tables"})
    max_rows: int | None = field(default=None, metadata={"help": "cap on training rows after mixing (smoke runs)"})
    value_hints: bool = field(default=False, metadata={
        "help": "show the values a question names beside their columns where a row has data (nl2sql.values), "
                "as serving does with Decoding(values=True)"})
    infer_keys: bool = field(default=False, metadata={
        "help": "show keys inferred from names where a table pair declares none (nl2sql.joins), as serving does "
                "with Decoding(infer_keys=True)"})
    drop_keys_fraction: float = field(default=0.0, metadata={
        "help": "this share of rows shows its schema with every declared foreign key removed (then inferred, with "
                "infer_keys): practice for databases that declare none"})
    shared_prefix_packing: bool = field(default=False, metadata={
        "help": "rows whose prompts start alike (one schema, as shown) share one copy of that start in a micro-batch "
                "(training.packing): the same loss, far fewer tokens; the row order is arranged for it (with several "
                "processes too: each reads whole micro-batches)"})


def used_tables(sql: str) -> set[str]:
    try:
        return {t.name.lower() for t in sqlglot.parse_one(sql, read="sqlite").find_all(exp.Table)}
    except (SqlglotError, ValueError, RecursionError):
        return set()


def kept_tables(row: dict, extra: int, rng: random.Random, full_fraction: float = 0.0,
                link_tables: bool = False, also: set[str] = frozenset(), parsed: Schema | None = None) -> list[str] | None:
    """Table names to render for a training row (None = all): with `link_tables`, what serving shows
    (nl2sql.link on `parsed`, else the row's schema; the gold's tables and `also`, e.g. tables holding named
    values, always kept); else the gold's tables plus `extra` random others."""
    gold = golds(row)[0]
    if link_tables and row.get("schema"):
        # prepare_schema is cached: a source's rows share a few schemas (Spider: ~50 questions each)
        parsed = parsed or prepare_schema(row["schema"]).parsed
        return link(row["question"], parsed, always=used_tables(gold) | set(also)).tables
    if extra < 0 or not row.get("schema") or rng.random() < full_fraction:
        return None
    names = [t.name for t in parse_schema(row["schema"]).tables]
    used = used_tables(gold)
    others = [n for n in names if n.lower() not in used]
    return [n for n in names if n.lower() in used] + rng.sample(others, min(extra, len(others)))


def shown_schema(text: str, args: DataArguments, rng: random.Random) -> Schema | None:
    """The schema a training prompt shows when keys are handled as serving can: declared keys dropped from
    a share of rows (drop_keys_fraction), inferred keys added (infer_keys); None: the schema as written."""
    if not args.infer_keys and args.drop_keys_fraction <= 0:
        return None
    drop = args.drop_keys_fraction > 0 and rng.random() < args.drop_keys_fraction
    parsed = prepare_schema(strip_foreign_keys(text) if drop else text).parsed
    return with_inferred_keys(parsed) if args.infer_keys else parsed


def row_value_hits(row: dict) -> list:
    """The values a training row's question names, found in its rows (context or db) as serving finds
    them (nl2sql.pipeline.value_hits); none for a row without data (Spider train has no table contents)."""
    from nl2sql.pipeline import Request, has_data, value_hits

    req = Request(row["question"], row["schema"], db=row.get("db"), context=row.get("context"))
    schema = prepare_schema(row["schema"])
    return value_hits(req, schema) if has_data(req, schema) else []


def uniform_sql(sql: str) -> str:
    """Gold SQL in one consistent style (spacing, keyword case), so a small model learns one way to write it."""
    try:
        return sqlglot.transpile(sql, read="sqlite", write="sqlite")[0]
    except (SqlglotError, ValueError, IndexError, RecursionError):
        return sql


def sft_example(row: dict, tokenizer, args: DataArguments, rng: random.Random) -> dict | None:
    """{"prompt", "completion"} for a canonical row, or None when its schema does not parse."""
    gold = golds(row)[0]
    gold = uniform_sql(gold)
    schema = row.get("schema") if args.schema_in_prompt else None
    try:
        if not schema:
            return {"prompt": build_prompt(row["question"], None, tokenizer), "completion": completion(gold, tokenizer)}
        hits = row_value_hits(row) if args.value_hints else []
        parsed = shown_schema(schema, args, rng) or prepare_schema(schema).parsed
        tables = kept_tables(row, args.prune_extra_tables, rng, args.full_schema_fraction,
                             args.link_tables, linked_tables(hits), parsed)
        prompt, _ = prompt_for(row["question"], parsed, tokenizer, tables, hits)
    except SchemaError:
        return None
    return {"prompt": prompt, "completion": completion(gold, tokenizer)}


def join_count(row: dict) -> int:
    """How many JOINs a row's gold query has (what the model is weakest at)."""
    gold = golds(row)[0]
    return len(re.findall(r"\bJOIN\b", gold, flags=re.IGNORECASE))


def joins_tables(row: dict) -> bool:
    """Whether a row's gold query joins tables."""
    return join_count(row) > 0


def weighted_parts(rows: list[dict], weight: float, args: DataArguments) -> list[tuple[list[dict], float]]:
    """One source's rows as mixture parts: rows without a join at `weight`, single joins at weight x
    join_row_weight, two or more joins at weight x multi_join_row_weight (join_row_weight where unset)."""
    multi = args.join_row_weight if args.multi_join_row_weight is None else args.multi_join_row_weight
    factors = (1.0, args.join_row_weight, multi)
    if factors == (1.0, 1.0, 1.0):
        return [(rows, weight)]
    groups: list[list[dict]] = [[], [], []]
    for r in rows:
        groups[min(join_count(r), 2)].append(r)
    return [(g, weight * f) for g, f in zip(groups, factors) if g]


def load_mixture(args: DataArguments, seed: int) -> tuple[list[dict], list[dict]]:
    """(train rows, held-out rows) mixed from all sources by weight; held-out rows come from unseen schemas."""
    if len(args.data_weights) != len(args.data_sources):
        raise ValueError(f"{len(args.data_sources)} data_sources but {len(args.data_weights)} data_weights")
    parts, held = [], []
    for source, weight in zip(args.data_sources, args.data_weights):
        rows = load_rows(source, split=args.data_split, limit=args.synthetic_rows if source.startswith("synthetic")
                         else None, seed=seed, join_boost=args.synthetic_join_boost)
        train, test = split_holdout(rows, args.eval_fraction, seed, args.max_eval_rows, group_key="schema")
        parts += weighted_parts(train, weight, args)
        held += test
    train = mix(parts, seed)
    return (train[: args.max_rows] if args.max_rows else train), held


def to_dataset(rows: list[dict], tokenizer, args: DataArguments, seed: int, max_length: int | None = None):
    """The prompt/completion data set; rows longer than max_length are dropped, never truncated (truncation
    would cut the SQL, the only part that carries loss)."""
    from datasets import Dataset

    rng = random.Random(seed)
    examples = [e for e in (sft_example(r, tokenizer, args, rng) for r in rows) if e is not None]
    if max_length:
        size = lambda e: len(tokenizer(e["prompt"] + e["completion"], add_special_tokens=False)["input_ids"])  # noqa: E731
        examples = [e for e in examples if size(e) <= max_length]
    return Dataset.from_list(examples)


def base_location(spec: str) -> str:
    """What transformers should load for a base model spec (the packaged model's converted checkpoint)."""
    src = resolve(spec)
    if src.kind == "adapter":
        raise ValueError(f"{spec} is a LoRA adapter; train from its base ({src.base}) or merge it first")
    return str(packaged_checkpoint()) if src.kind == "packaged" else src.location


@dataclass(frozen=True)
class Hardware:
    """The training settings that follow the machine, as parser defaults: a recipe or the command line that
    sets one wins (training.train applies them before the recipe)."""

    bf16: bool  # where the device computes it fast (nl2sql.models.bf16_supported): CUDA, AMX, avx512_bf16
    use_cpu: bool  # transformers refuses bf16 on a CPU unless told it is one
    activation_checkpointing: bool = False  # a 135M model fits everywhere; checkpointing only costs time
    # Several processes: every parameter takes part in each step, so DDP need not walk the graph looking for
    # unused ones (transformers' default looks, and warns that it found none)
    ddp_find_unused_parameters: bool = False


def detect_hardware(device_is_cuda: bool) -> Hardware:
    return Hardware(bf16=bf16_supported("cuda" if device_is_cuda else "cpu"), use_cpu=not device_is_cuda)


def hardware_label(processes: int = 1, cpu: bool = False) -> str:
    """The device a run trains on, with its process count when there are several (each process: one GPU, or a
    share of the CPU's threads); `cpu`: a CPU run even where CUDA is present (use_cpu)."""
    import torch

    if torch.cuda.is_available() and not cpu:
        name = torch.cuda.get_device_name(0)
        return f"{processes} x {name}" if processes > 1 else name
    isa = next((f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in cpu_flags()), "")
    label = f"{cpu_name()} ({torch.get_num_threads()} threads, {platform.machine()}{', ' + isa if isa else ''})"
    return f"{label} x {processes} processes" if processes > 1 else label


def completion_only_loss(model, inputs: dict, num_items_in_batch=None):
    """Next-token loss on completion tokens, with the output layer applied only where a label is.

    trl's default forward computes the (49k-vocabulary) output layer for every position in fp32 chunks;
    prompts are most of each row, so this does the same loss at a fraction of the cost (and keeps the
    output layer in the autocast dtype, so bf16 speeds it up too).
    """
    import torch.nn.functional as F

    labels = inputs["labels"]
    # The model's own forward, so that a DistributedDataParallel wrapper (several processes) syncs the gradients,
    # with no logits kept (logits_to_keep: no position): the output layer runs below, on completion positions
    # only. The last hidden state comes after the final norm. Packed batches (training.packing) bring a 4D
    # attention mask and position ids; plain ones a 2D mask.
    out = model(input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"),
                position_ids=inputs.get("position_ids"), use_cache=False, output_hidden_states=True,
                logits_to_keep=labels.new_zeros(0))
    hidden = out.hidden_states[-1]
    inner = getattr(model, "module", model)  # DistributedDataParallel holds the model as .module
    base = inner.get_base_model() if hasattr(inner, "get_base_model") else inner
    targets = labels[:, 1:]
    keep = targets != -100
    logits = base.get_output_embeddings()(hidden[:, :-1][keep]).float()
    total = F.cross_entropy(logits, targets[keep], reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else keep.sum()
    return total / max(int(count), 1)
