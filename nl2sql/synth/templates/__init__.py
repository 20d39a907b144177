"""All templates, registered on import; REGISTRY lists them."""

from nl2sql.synth.templates import advanced, aggregation, basic, changes, joins, joins_more  # noqa: F401  (registers)
from nl2sql.synth.templates.base import COMPLEXITY, REGISTRY, TASKS, Skip, Template

__all__ = ["COMPLEXITY", "REGISTRY", "TASKS", "Skip", "Template"]
