"""The contact centre as the rest of BankVOC asks for it.

Quality inspection so far: a rule set (`load_ruleset`: the bank's file or the shipped one), one
interaction scored against it (`inspect`, a pure function) and a JSON Lines stream of them
(`inspect_lines`). Storing interactions, their results and the review queue build on these.
"""

from __future__ import annotations

from bankvoc.contact.batch import Outcome, inspect_lines, numbered_lines, open_input
from bankvoc.contact.inspection import QaHit, QaResult, inspect
from bankvoc.contact.rules import CATEGORIES, QaRulesError, RuleSet, load_ruleset, parse_ruleset
from bankvoc.contact.schemas import Interaction, LineError, Turn, parse_line

__all__ = [
    "CATEGORIES", "Interaction", "LineError", "Outcome", "QaHit", "QaResult", "QaRulesError",
    "RuleSet", "Turn", "inspect", "inspect_lines", "load_ruleset", "numbered_lines",
    "open_input", "parse_line", "parse_ruleset",
]
