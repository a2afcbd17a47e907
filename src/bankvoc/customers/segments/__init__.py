"""Customer segments from RFM (recency, frequency, monetary value), and attrition per segment.

Each month the bank exports a customer-value file: per customer, the days since their last
transaction, how many transactions, how much money (the bank chooses the measure: assets under
management, spending, balance …) and, when they left, the day they closed their last account.
`import_rows` finds each customer by blind index (creating the unknown ones, identity encrypted
as `customers.service` stores it), and `store_month` keeps one `customer_value` row per
customer and month, scores R, F and M 1–5 by quintile over the whole of that month's customers
(`quintile_scores`), names the segment from the scores (`segments.yaml`, bank-editable) and
writes the segment of each customer's latest month onto `customer.segment`, which is what the
KPIs' segment cut reads (a trigger of migration 0017 marks their cases' roll-up buckets).

`attrition` answers the bank's question: of the customers in each segment at the start of a
period, how many left in it, and do those who complained leave more often than the rest.

Split by sub-process: `config` (the segment map), `rfm` (scores and storing a month),
`value_import` (reading and importing a file's rows), `attrition`. Callers use this package
(`from bankvoc.customers import segments`) and the names it re-exports.
"""

from __future__ import annotations

from bankvoc.customers.segments.attrition import (
    COMPLAINT_KINDS,
    COMPLAINT_LOOKBACK_MONTHS,
    READ_PERMISSION,
    AttritionReport,
    AttritionRow,
    attrition,
)
from bankvoc.customers.segments.config import (
    DEFAULT_PATH,
    NO_SEGMENT,
    SCORES,
    Condition,
    Segment,
    SegmentMap,
    SegmentsError,
    load_segments,
    parse_segments,
    read_segments,
)
from bankvoc.customers.segments.rfm import (
    IMPORT_PERMISSION,
    MonthReport,
    Scored,
    ValueRow,
    quintile_scores,
    score_population,
    store_month,
)
from bankvoc.customers.segments.value_import import (
    FIELDS,
    HEADERS,
    ImportReport,
    ParsedRow,
    RowRefused,
    field_of,
    import_rows,
    parse_month,
    parse_row,
    resolve_customers,
)

__all__ = [
    "COMPLAINT_KINDS",
    "COMPLAINT_LOOKBACK_MONTHS",
    "DEFAULT_PATH",
    "FIELDS",
    "HEADERS",
    "IMPORT_PERMISSION",
    "NO_SEGMENT",
    "READ_PERMISSION",
    "SCORES",
    "AttritionReport",
    "AttritionRow",
    "Condition",
    "ImportReport",
    "MonthReport",
    "ParsedRow",
    "RowRefused",
    "Scored",
    "Segment",
    "SegmentMap",
    "SegmentsError",
    "ValueRow",
    "attrition",
    "field_of",
    "import_rows",
    "load_segments",
    "parse_month",
    "parse_row",
    "parse_segments",
    "quintile_scores",
    "read_segments",
    "resolve_customers",
    "score_population",
    "store_month",
]
