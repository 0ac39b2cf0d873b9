#!/usr/bin/env python3
"""Writes a synthetic CRM event stream (JSONL) for `rulec run` throughput runs.

    python3 benches/events.py 1000000 > /tmp/events.jsonl
    time target/release/rulec run examples/ --events /tmp/events.jsonl --format json > /dev/null

10,000 deals, people and companies; creations first, then updates that move stages,
values and lifecycles (some of which fire the example rules), one second apart.

    --webhooks PCT   that share of events are Typeform submissions (form-intake: two
                     upserts each, over 5,000 companies and 20,000 people)
    --waits PCT      that share of events add a person to "New hires" (onboarding: an
                     `ask` that waits up to 3 days), so many runs wait at once
"""
import json
import sys
from datetime import datetime, timedelta, timezone

STAGES = ["Lead", "Open", "Qualified", "Proposal", "Negotiation", "ClosedWon", "ClosedLost"]
LIFECYCLE = ["Subscriber", "Lead", "MQL", "SQL", "Customer"]


def option(name):
    if name in sys.argv:
        return int(sys.argv[sys.argv.index(name) + 1])
    return 0


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    webhooks = option("--webhooks")
    waits = option("--waits")
    records = 10_000
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    out = sys.stdout
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    for i in range(total):
        at = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        r = i % records
        kind = i % 3
        first = i < 3 * records
        roll = (i * 7919) % 100
        if not first and roll < webhooks:
            n = (i * 31) % 20_000
            event = {
                "id": f"e{i}", "type": "webhook", "name": "typeform", "at": at,
                "payload": {"email": f"u{n}@d{n % 5000}.example.com", "name": f"user {n}",
                            "company": f"D{n % 5000}", "message": "hi"},
            }
        elif not first and roll < webhooks + waits:
            event = {
                "id": f"e{i}", "type": "list-entry.created", "list": "New hires",
                "object": "people", "record_id": f"p{r}", "at": at,
                "record": {"manager": "dana@acme.com", "start_date": "2026-04-01"},
            }
        elif kind == 0:
            event = {
                "id": f"e{i}", "type": "record.created" if first else "record.updated",
                "object": "deals", "record_id": f"d{r}", "at": at,
                "record": {"name": f"Deal {r}", "stage": STAGES[(i // 3) % 7],
                           "value": (i * 37) % 50_000, "owner": "ana@acme.com"},
            }
        elif kind == 1:
            event = {
                "id": f"e{i}", "type": "record.created" if first else "record.updated",
                "object": "people", "record_id": f"p{r}", "at": at,
                "record": {"name": f"Person {r}", "lifecycle": LIFECYCLE[(i // 3) % 5],
                           "email_addresses": [f"p{r}@example.com"]},
            }
        else:
            event = {
                "id": f"e{i}", "type": "record.created" if first else "record.updated",
                "object": "companies", "record_id": f"c{r}", "at": at,
                "record": {"name": f"Company {r}", "employee_count": i % 5000},
            }
        out.write(dumps(event))
        out.write("\n")


if __name__ == "__main__":
    main()
