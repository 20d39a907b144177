"""The offline synthetic text-to-SQL generator, in gretelai/synthetic_text_to_sql's columns.

    from nl2sql.synth import generate
    rows = list(generate(1000, seed=0, split="train"))   # split: train | test | all (by domain)
"""

from nl2sql.synth.generator import GRETEL_COLUMNS, SPLITS, TEST_DOMAINS, domains_for, generate

__all__ = ["GRETEL_COLUMNS", "SPLITS", "TEST_DOMAINS", "domains_for", "generate"]
