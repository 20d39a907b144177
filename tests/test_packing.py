"""Shared-prefix packing (training.packing): the same loss and gradients as the rows one by one."""

from __future__ import annotations

import pytest

from training.packing import PackingCollator, clusters, grouped_order, prefix_key

SCHEMA = ("CREATE TABLE employees (id INT PRIMARY KEY, name TEXT, salary INT, department_id INT);"
          "CREATE TABLE departments (id INT PRIMARY KEY, name TEXT);")
ROWS = [("How many employees are there?", "SELECT COUNT(*) FROM employees"),
        ("List the names of departments.", "SELECT name FROM departments"),
        ("Who earns more than 100?", "SELECT name FROM employees WHERE salary > 100"),
        ("What is the average salary per department?",
         "SELECT d.name, AVG(e.salary) FROM employees AS e JOIN departments AS d ON d.id = e.department_id "
         "GROUP BY d.name")]


def _features(tokenizer, rows, schema=SCHEMA):
    """Tokenized rows as trl's SFTTrainer makes them: input_ids and a completion mask."""
    from nl2sql.prompt import build_prompt, completion

    out = []
    for question, sql in rows:
        prompt = tokenizer(build_prompt(question, schema, tokenizer), add_special_tokens=False)["input_ids"]
        answer = tokenizer(completion(sql, tokenizer), add_special_tokens=False)["input_ids"]
        out.append({"input_ids": prompt + answer, "completion_mask": [0] * len(prompt) + [1] * len(answer)})
    return out


def _plain_batch(features, pad_id):
    """The rows one by one, right-padded, as the default collator gives them."""
    import torch

    n = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), n), pad_id)
    labels = torch.full((len(features), n), -100)
    mask = torch.zeros((len(features), n), dtype=torch.long)
    for i, f in enumerate(features):
        m = len(f["input_ids"])
        ids[i, :m] = torch.tensor(f["input_ids"])
        labels[i, :m] = torch.tensor([t if c else -100 for t, c in zip(f["input_ids"], f["completion_mask"])])
        mask[i, :m] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _loss_and_grads(model, batch):
    from training.sft import completion_only_loss

    model.zero_grad()
    count = int((batch["labels"][:, 1:] != -100).sum())
    loss = completion_only_loss(model, batch, count)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_packed_rows_give_the_same_loss_and_gradients(tiny):
    import torch

    model, tokenizer = tiny.model, tiny.tokenizer
    model.float().train()
    other = "CREATE TABLE books (id INT, title TEXT, author TEXT);"
    features = _features(tokenizer, ROWS) + _features(tokenizer, [("How many books?", "SELECT COUNT(*) FROM books")],
                                                      other)
    collator = PackingCollator(tokenizer.pad_token_id)
    packed = collator(features)
    assert packed["input_ids"].shape[0] == 2  # the four rows of one schema share a sequence; the other row is alone
    plain_tokens = sum(len(f["input_ids"]) for f in features)
    assert sum(len(s["ids"]) for s in collator.pack(features)) < 0.7 * plain_tokens
    plain_loss, plain_grads = _loss_and_grads(model, _plain_batch(features, tokenizer.pad_token_id))
    packed_loss, packed_grads = _loss_and_grads(model, packed)
    assert torch.allclose(plain_loss, packed_loss, atol=1e-5), (plain_loss, packed_loss)
    assert plain_grads.keys() == packed_grads.keys() and plain_grads
    for name, grad in plain_grads.items():
        assert torch.allclose(grad, packed_grads[name], atol=1e-5, rtol=1e-4), name
    model.zero_grad()
    model.eval()


def test_rows_pack_only_on_a_shared_prompt_and_never_into_the_answer():
    a = {"input_ids": list(range(40)) + [900, 901], "completion_mask": [0] * 40 + [1, 1]}
    b = {"input_ids": list(range(40)) + [902], "completion_mask": [0] * 40 + [1]}  # same prompt, other answer
    c = {"input_ids": list(range(30)) + [7] * 10 + [903], "completion_mask": [0] * 40 + [1]}
    d = {"input_ids": [5] * 41, "completion_mask": [0] * 40 + [1]}
    groups = clusters([a, b, c, d])
    # a and b share all 40 prompt tokens, but the last one stays theirs: each part starts with a prompt token.
    assert groups == [([0, 1, 2], 30), ([3], 39)]
    seqs = PackingCollator(0).pack([a, b, c, d])
    assert [len(s["ids"]) for s in seqs] == [30 + 12 + 11 + 11, 41]
    first = seqs[0]
    assert first["pos"][30:42] == list(range(30, 42)) and first["pos"][42:53] == list(range(30, 41))
    assert [t for t, lab in zip(first["ids"], first["labels"]) if lab != -100] == [900, 901, 902, 903]


def test_grouped_order_batches_rows_of_one_schema():
    keys = ["a"] * 10 + ["b"] * 5 + ["c"] * 3
    order = grouped_order(keys, 4, seed=1, epochs=2)
    assert len(order) == 36 and sorted(order[:18]) == list(range(18)) and order[:18] != order[18:]
    batches = [order[i:i + 4] for i in range(0, 18, 4)]
    assert sum(len({keys[i] for i in b}) == 1 for b in batches) >= 3  # a a a a, a a a a, b b b b
    assert grouped_order(keys, 4, seed=1, epochs=2) == order


@pytest.mark.parametrize("prompt,key", [("<s>Tables:\nt(a)\nQuestion: how?\nSQL:", "<s>Tables:\nt(a)"),
                                        ("no marker", "no marker")])
def test_prefix_key(prompt, key):
    assert prefix_key(prompt) == key


def test_training_with_packing_runs_and_resumes(tiny_model_dir, tmp_path):
    """A tiny LoRA run with shared-prefix packing: batches really are packed, training ends, and resumes."""
    import json

    from tests.test_train import _argv
    from training import packing
    from training.train import main

    calls = []
    original = packing.PackingCollator.__call__

    def spy(self, rows):
        batch = original(self, rows)
        calls.append((len(rows), batch["input_ids"].shape[0]))
        return batch

    out = tmp_path / "packed"
    argv = _argv(tiny_model_dir, out, "--use_peft", "true", "--lora_r", "4", "--lora_target_modules", "all-linear",
                 "--shared_prefix_packing", "true", "--per_device_train_batch_size", "4", "--eval_strategy", "no")
    packing.PackingCollator.__call__ = spy
    try:
        assert main(argv) == 0
        assert main([*argv, "--resume_from_checkpoint", "true", "--max_steps", "4"]) == 0
    finally:
        packing.PackingCollator.__call__ = original
    assert any(packed < rows for rows, packed in calls), calls  # some rows shared a sequence
    steps = [h["step"] for h in json.loads((out / "log_history.json").read_text()) if "loss" in h]
    assert steps[-1] == 4 and all(h.get("loss", 0) == h.get("loss", 0) for h in
                                  json.loads((out / "log_history.json").read_text()))
