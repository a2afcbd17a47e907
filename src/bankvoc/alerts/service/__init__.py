"""Early warning: the daily scan, the alert list and its acknowledgement. Never commits.

`scan` looks at one local day of the bank (Asia/Shanghai by default) and raises four kinds of
alerts, each stored once (a unique `dedupe_key`, inserted ON CONFLICT DO NOTHING), so re-running
the scan for a day, or two scans at once, change nothing:

- hot_issue: the day's complaints (and complaint intents; merged duplicates left out) per
  category, per product, per org (an org counts its whole subtree) and per org × category,
  each against its own seasonal baseline over the trailing weeks (alerts/detection.py); with the
  spike's size, its significance and its typical cases (the most central texts, masked);
- emerging_topic: clusters of similar texts (nlp.topics) over the last week and the weeks
  before it, whose members are mostly recent, beyond what the recent share of all texts
  explains (a binomial test);
- mass_complaint: copies of one templated text (the same similar key) from several customers
  within a few days, and cases whose words say a group complains (集体, 多名客户, 维权 …);
- regulator_risk: open complaints whose explainable score (alerts/risk.py) reaches the alert
  level, once per case.

New alerts are told to the consumer-protection officers (cpo) of the head office and of the
nearest org above the alert's org that has one, through the notification outbox, once per alert
and person; staff without a work address are recorded on the alert as unreachable. Wording and
thresholds come from alerts/rules.yaml. Nothing personal is stored or sent: cases are named by
reference, texts are the masked ones, and a note is masked before it is kept.

The service is split by sub-process: `scan` (counting the series, detecting the spikes, storing
the alerts), `findings` (emerging topics, possible mass complaints, regulator risk), `handling`
(telling the officers, listing and acknowledging); `common` holds what they share. Callers use
this package (`from bankvoc.alerts import service`) and the names it re-exports.
"""

from __future__ import annotations

from bankvoc.alerts.service.common import (
    COUNTED_KINDS,
    ScanReport,
    day_bounds,
    default_day,
    pick_typical,
)
from bankvoc.alerts.service.findings import RiskyCase, regulator_risks
from bankvoc.alerts.service.handling import (
    MAX_NOTE,
    TEMPLATE,
    acknowledge,
    get_alert,
    list_alerts,
    require_scan,
    to_read,
    typical_cases,
    usernames_of,
    visible,
)
from bankvoc.alerts.service.scan import METHOD, SeriesKey, daily_series, scan

__all__ = [
    "COUNTED_KINDS",
    "MAX_NOTE",
    "METHOD",
    "TEMPLATE",
    "RiskyCase",
    "ScanReport",
    "SeriesKey",
    "acknowledge",
    "daily_series",
    "day_bounds",
    "default_day",
    "get_alert",
    "list_alerts",
    "pick_typical",
    "regulator_risks",
    "require_scan",
    "scan",
    "to_read",
    "typical_cases",
    "usernames_of",
    "visible",
]
