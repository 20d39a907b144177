import json
from pathlib import Path

import pytest
import torch

from training import sft
from training.train import main, parse

CONFIGS = Path(__file__).resolve().parent.parent / "training" / "configs"


def _argv(model_dir, out, *extra):
    return ["--model_name_or_path", str(model_dir), "--data_sources", "synthetic:train",
            "--data_weights", "1.0", "--synthetic_rows", "40", "--max_rows", "12", "--max_eval_rows", "4",
            "--eval_fraction", "0.2", "--max_steps", "3", "--per_device_train_batch_size", "2",
            "--gradient_accumulation_steps", "1", "--learning_rate", "1e-2", "--logging_steps", "1",
            "--save_steps", "2", "--eval_strategy", "steps", "--eval_steps", "3", "--max_length", "512",
            "--output_dir", str(out), "--report_to", "none", *extra]


def test_three_steps_full_then_resume(tiny_model_dir, tmp_path):
    out = tmp_path / "full"
    assert main(_argv(tiny_model_dir, out)) == 0
    from nl2sql.backends.hf import generate
    from nl2sql.models import load

    trained, base = load(str(out), dtype="float32"), load(str(tiny_model_dir), dtype="float32")
    changed = [n for n, p in trained.model.named_parameters() if not torch.equal(p, dict(base.model.named_parameters())[n])]
    assert changed, "no parameter changed"
    assert generate(trained, "How many?", max_new_tokens=3).new_tokens >= 1
    history = json.loads((out / "log_history.json").read_text())
    assert any("loss" in h for h in history) and any("eval_loss" in h for h in history)
    for name in ("README.md", "loss.png", "run_config.json", "checkpoint-2"):
        assert (out / name).exists(), name
    assert "fine-tuned" in trained.name
    # Resume from the step-2 checkpoint: training continues at step 2, not from scratch.
    assert main(_argv(tiny_model_dir, out, "--resume_from_checkpoint", str(out / "checkpoint-2"), "--max_steps", "4")) == 0
    steps = [h["step"] for h in json.loads((out / "log_history.json").read_text()) if "loss" in h]
    assert steps[0] <= 2 and steps[-1] == 4 and 3 in steps


def test_three_steps_lora_adapter_loads_on_its_base(tiny_model_dir, tmp_path):
    out = tmp_path / "lora"
    assert main(_argv(tiny_model_dir, out, "--use_peft", "true", "--lora_r", "4", "--lora_target_modules", "all-linear")) == 0
    cfg = json.loads((out / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == str(tiny_model_dir)
    from nl2sql.backends.hf import generate
    from nl2sql.models import load

    lm = load(str(out), dtype="float32")
    assert "LoRA on" in lm.name and generate(lm, "How many?", max_new_tokens=3).new_tokens >= 1


def test_labels_mask_the_prompt(tiny_model_dir):
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer
    from transformers import AutoModelForCausalLM

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    row = {"question": "How many employees?", "schema": "CREATE TABLE employees (id INT, name TEXT);",
           "sql": "SELECT COUNT(*) FROM employees"}
    import random

    ex = sft.sft_example(row, tok, sft.DataArguments(), random.Random(0))
    from datasets import Dataset

    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), processing_class=tok,
                         args=SFTConfig(output_dir="/tmp/unused", report_to="none", bf16=False, max_length=512),
                         train_dataset=Dataset.from_list([ex]))
    item = trainer.train_dataset[0]
    batch = trainer.data_collator([item])
    labels, ids = batch["labels"][0], batch["input_ids"][0]
    learned = tok.decode(ids[labels != -100])
    assert learned == "SELECT COUNT(*) FROM employees;<|im_end|>"
    assert tok.decode(ids[labels == -100]) == ex["prompt"]


def test_prune_keeps_gold_tables_plus_extras():
    import random

    row = {"schema": "CREATE TABLE a (x INT); CREATE TABLE b (y INT); CREATE TABLE c (z INT); CREATE TABLE d (w INT);",
           "sql": "SELECT x FROM a JOIN c ON a.x = c.z"}
    kept = sft.kept_tables(row, 1, random.Random(0))
    assert kept[:2] == ["a", "c"] and len(kept) == 3 and kept[2] in {"b", "d"}
    assert sft.kept_tables(row, -1, random.Random(0)) is None


def test_hardware_follows_detection(monkeypatch):
    monkeypatch.setattr(sft, "bf16_supported", lambda device: device == "cuda")
    assert sft.detect_hardware(device_is_cuda=False) == sft.Hardware(bf16=False, use_cpu=True)
    assert sft.detect_hardware(device_is_cuda=True) == sft.Hardware(bf16=True, use_cpu=False)


def test_parse_applies_detected_precision(monkeypatch):
    monkeypatch.setattr(sft, "bf16_supported", lambda device: True)
    _, args, *_ = parse(["--config", str(CONFIGS / "cpu-smoke.yaml")])
    assert args.bf16 is True and args.activation_checkpointing is False
    _, args, *_ = parse(["--config", str(CONFIGS / "cpu-smoke.yaml"), "--bf16", "false"])
    assert args.bf16 is False


def test_seed_recipe_resolves_up_to_the_download(monkeypatch):
    argv = ["--config", str(CONFIGS / "seed.yaml")]
    data_args, sft_args, model_args, *_ = parse(argv)
    assert model_args.model_name_or_path == "HuggingFaceTB/SmolLM2-135M"
    assert (sft_args.max_steps, sft_args.per_device_train_batch_size, sft_args.gradient_accumulation_steps) == (3000, 2, 8)
    assert (sft_args.learning_rate, sft_args.save_steps, sft_args.eval_steps) == (2e-5, 500, 500)
    assert data_args.data_sources == ["gretelai/synthetic_text_to_sql"] and not data_args.schema_in_prompt
    assert sft.base_location(model_args.model_name_or_path) == "HuggingFaceTB/SmolLM2-135M"  # a hub id, as is
    calls = []
    import datasets

    def offline(name, split):
        calls.append((name, split))
        raise ConnectionError("no hub here")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    from nl2sql.data import DataError

    with pytest.raises(DataError, match="cannot load 'gretelai/synthetic_text_to_sql'"):
        sft.load_mixture(data_args, sft_args.seed)
    assert calls == [("gretelai/synthetic_text_to_sql", "train")]


@pytest.mark.parametrize("recipe", ["default.yaml", "lora.yaml", "cpu-smoke.yaml", "relay.yaml", "probe-keys.yaml"])
def test_recipes_parse(recipe):
    data_args, sft_args, model_args, *_ = parse(["--config", str(CONFIGS / recipe)])
    assert model_args.model_name_or_path == "packaged" and data_args.schema_in_prompt
    assert len(data_args.data_sources) == len(data_args.data_weights)
    assert model_args.use_peft == (recipe in ("lora.yaml", "relay.yaml", "probe-keys.yaml"))


def test_a_recipe_setting_beats_the_detected_one(monkeypatch, tmp_path):
    monkeypatch.setattr(sft, "bf16_supported", lambda device: True)
    recipe = tmp_path / "r.yaml"
    recipe.write_text((CONFIGS / "cpu-smoke.yaml").read_text() + "bf16: false\nactivation_checkpointing: true\n")
    _, args, *_ = parse(["--config", str(recipe)])
    assert args.bf16 is False and args.activation_checkpointing is True and args.use_cpu is True
    _, args, *_ = parse(["--config", str(recipe), "--bf16", "true"])
    assert args.bf16 is True  # the command line beats the recipe


def test_uniform_sql_and_length_filter(tiny_model_dir):
    from transformers import AutoTokenizer

    assert sft.uniform_sql("select  count(*)  from singer where age  >  20") == "SELECT COUNT(*) FROM singer WHERE age > 20"
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    rows = [{"question": "q", "schema": "CREATE TABLE t (a INT);", "sql": "SELECT a FROM t"},
            {"question": "q " * 400, "schema": "CREATE TABLE t (a INT);", "sql": "SELECT a FROM t"}]
    ds = sft.to_dataset(rows, tok, sft.DataArguments(), seed=0, max_length=256)
    assert len(ds) == 1 and ds[0]["completion"].startswith("SELECT a FROM t;")


def test_completion_only_loss_equals_the_standard_loss(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.randint(3, 300, (2, 12))
    labels = ids.clone()
    labels[:, :7] = -100  # the prompt
    labels[1, 10:] = -100  # padding
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    got = sft.completion_only_loss(model, {"input_ids": ids, "attention_mask": mask, "labels": labels})
    assert torch.allclose(got, expected, atol=1e-5)
    got.backward()
    assert model.model.layers[0].self_attn.q_proj.weight.grad is not None


def test_ship_copies_an_fp16_adapter_that_loads(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from nl2sql.models import load
    from training.ship import main as ship

    run = tmp_path / "run"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    model.save_pretrained(run)
    out = tmp_path / "shipped"
    assert ship(["--adapter", str(run), "--out", str(out)]) == 0
    from safetensors.torch import load_file

    assert {v.dtype for v in load_file(out / "adapter_model.safetensors").values()} == {torch.float16}
    lm = load(str(out), dtype="float32")
    ref = load(str(run), dtype="float32")
    ids = lm.tokenizer("SELECT", return_tensors="pt")
    with torch.no_grad():
        assert torch.allclose(lm.model(**ids).logits, ref.model(**ids).logits, atol=1e-2)
    assert ship(["--adapter", str(tiny_model_dir), "--out", str(tmp_path / "x")]) == 2  # not an adapter


def test_linked_training_prompts_show_what_serving_shows():
    import random

    from nl2sql.link import link
    from nl2sql.schema import parse_schema
    from tests.test_link import SHOP

    row = {"question": "Which products cost more than 10?", "schema": SHOP, "sql": "SELECT title FROM products"}
    served = link(row["question"], parse_schema(SHOP)).tables
    assert sft.kept_tables(row, 2, random.Random(0), link_tables=True) == served
    # The gold's tables are always shown, even where linking alone would leave them out.
    odd = dict(row, sql="SELECT carrier FROM shipments")
    assert "shipments" in sft.kept_tables(odd, 2, random.Random(0), link_tables=True)


@pytest.mark.parametrize("flags,label", [({"avx2", "fma"}, "avx2"), ({"avx2", "avx512f", "avx512_bf16"}, "avx512_bf16"),
                                         ({"avx512_bf16", "amx_bf16"}, "amx_bf16"), (set(), "x86_64)")])
def test_the_hardware_label_names_the_cpus_vector_kind(monkeypatch, flags, label):
    monkeypatch.setattr(sft, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sft.platform, "machine", lambda: "x86_64")
    assert sft.hardware_label().endswith(label + ("" if label.endswith(")") else ")"))


def test_join_rows_can_weigh_more_in_the_mixture():
    from training.sft import DataArguments, joins_tables, load_mixture

    args = DataArguments(data_sources=["synthetic:train"], data_weights=[1.0], synthetic_rows=300, eval_fraction=0.0)
    plain, _ = load_mixture(args, seed=0)
    args.join_row_weight = 2.0
    weighted, _ = load_mixture(args, seed=0)
    count = lambda rows: sum(joins_tables(r) for r in rows)  # noqa: E731
    assert count(plain) > 20 and count(weighted) == 2 * count(plain)
    assert len(weighted) - len(plain) == count(plain)  # the other rows are kept once, as before
    assert joins_tables({"sql": ["select * from a join b on a.x = b.y"]}) and not joins_tables({"sql": "SELECT 1"})


def test_rows_with_several_joins_can_weigh_more_than_single_joins():
    from training.sft import DataArguments, join_count, load_mixture

    args = DataArguments(data_sources=["synthetic:train"], data_weights=[1.0], synthetic_rows=600, eval_fraction=0.0,
                         synthetic_join_boost=2.0, join_row_weight=2.0)
    same, _ = load_mixture(args, seed=0)  # unset: multi-join rows weigh as single joins
    args.multi_join_row_weight = 3.0
    more, _ = load_mixture(args, seed=0)
    by = lambda rows, k: sum(min(join_count(r), 2) == k for r in rows)  # noqa: E731
    assert by(same, 2) > 10 and by(more, 2) * 2 == by(same, 2) * 3
    assert by(more, 1) == by(same, 1) and by(more, 0) == by(same, 0)
    assert join_count({"sql": "SELECT 1 FROM a JOIN b ON a.x = b.x join c ON c.y = b.y"}) == 2


def test_training_prompts_show_keys_as_serving_does():
    """infer_keys shows inferred keys as Decoding(infer_keys=True) does; drop_keys_fraction=1 first removes the
    declared ones (a database that declares none); neither set: the schema as written, and no random draw."""
    import random

    from nl2sql.pipeline import Decoding, Request, prepare
    from tests.conftest import scripted

    ddl = ("CREATE TABLE customer (id INT PRIMARY KEY, name TEXT);\n"
           "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, note TEXT REFERENCES customer(name));")
    row = {"question": "How many orders has each customer?", "schema": ddl, "sql": "SELECT 1"}
    prompt = lambda **kw: sft.sft_example(row, None, sft.DataArguments(**kw), random.Random(0))["prompt"]  # noqa: E731
    assert "customer_id->customer.id" not in prompt() and "note->customer.name" in prompt()
    assert "customer_id->customer.id" not in prompt(infer_keys=False, drop_keys_fraction=0.0)
    served = prepare(scripted([]), Request(row["question"], ddl), Decoding(infer_keys=True)).prompt
    assert prompt(infer_keys=True) == served  # train = serve
    dropped = prompt(infer_keys=True, drop_keys_fraction=1.0)
    assert "note->customer.name" not in dropped and "customer_id->customer.id" in dropped
    rng = random.Random(0)
    sft.sft_example(row, None, sft.DataArguments(), rng)
    assert rng.random() == random.Random(0).random()  # default prompts draw nothing: earlier runs' data unchanged


def test_a_full_fine_tune_of_the_merged_adapter_ships_every_change(tiny_model_dir, tmp_path, capsys):
    """The capacity probes' path: an adapter merged into its base (training.merge), fine-tuned in full with the
    linear layers only (--linear_only), then extracted against the original base (training.extract)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from nl2sql.models import load
    from training.extract import extract
    from training.merge import main as merge_main
    from training.relay import RelayError

    run = tmp_path / "adapter"
    get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                   LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)).save_pretrained(run)
    assert merge_main(["--adapter", str(run), "--out", str(tmp_path / "merged")]) == 0
    assert merge_main(["--adapter", str(tiny_model_dir), "--out", str(tmp_path / "x")]) == 2  # not an adapter
    merged, adapter = load(str(tmp_path / "merged"), dtype="float32"), load(str(run), dtype="float32")
    ids = torch.tensor([[1, 5, 9, 13]])
    with torch.no_grad():
        assert torch.allclose(merged.model(ids).logits, adapter.model(ids).logits, atol=1e-5)

    with pytest.raises(RelayError, match="--use_peft false"):
        main(_argv(tmp_path / "merged", tmp_path / "bad", "--use_peft", "true", "--linear_only", "true"))
    out = tmp_path / "full"
    assert main(_argv(tmp_path / "merged", out, "--linear_only", "true")) == 0
    before = dict(merged.model.named_parameters())
    after = dict(load(str(out), dtype="float32").model.named_parameters())
    changed = {n for n, p in after.items() if not torch.equal(p, before[n])}
    assert changed and all(n.rsplit(".", 2)[-2].endswith("_proj") for n in changed), changed  # no embedding, no norm
    linear = sum(p.numel() for n, p in before.items() if n.endswith("_proj.weight"))
    assert f"--linear_only: {linear:,} parameters train" in capsys.readouterr().err
    result = extract(str(out), str(tmp_path / "lora"), base=str(tiny_model_dir), rank=8)
    assert result.dropped == {} and result.layers > 0  # the extraction carries every change
