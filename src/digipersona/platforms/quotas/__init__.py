"""Per-connection and per-app quotas, counted in the database so every process shares them.

Windows are fixed and aligned (LinkedIn's daily counters reset at 00:00 UTC, X counts 15-minute
windows). A publication that would exceed a quota is not failed: it waits for the window's end.
Counting is all-or-nothing across the rules of one publish (one savepoint). Reads that come in
batches (metrics, comment polling) use ``admit`` instead: as much of a batch as the window still
has room for, so a quota smaller than a batch, or a partly spent window, is used rather than
the whole batch waiting for a window it can never fit in.
"""

from digipersona.platforms.quotas.repository import admit, admit_linkedin_reads, consume, usage
from digipersona.platforms.quotas.rules import (
    DAY,
    QuotaExceeded,
    QuotaRule,
    linkedin_read_quota,
    linkedin_reads_spent,
    rule_named,
    rules_for,
)

__all__ = [
    "DAY",
    "QuotaExceeded",
    "QuotaRule",
    "admit",
    "admit_linkedin_reads",
    "consume",
    "linkedin_read_quota",
    "linkedin_reads_spent",
    "rule_named",
    "rules_for",
    "usage",
]
