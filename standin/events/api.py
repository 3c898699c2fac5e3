"""The EventBridge API as the stand-in answers it: `PutEvents` delivered to the matching rules' targets (a
CodePipeline target starts its pipeline), which moto cannot do."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from standin import engines
from standin.dispatch import Context, operation
from standin.events.delivery import deliver


@operation("events", "PutEvents")
def put_events(ctx: Context, params: dict[str, Any]) -> dict[str, Any]:
    engines.bind(ctx.standin)
    entries = []
    failed = 0
    for entry in params.get("Entries") or []:
        missing = [k for k in ("Source", "DetailType", "Detail") if not entry.get(k)]
        if missing:
            failed += 1
            entries.append(
                {
                    "ErrorCode": "InvalidArgument",
                    "ErrorMessage": f"Parameter {missing[0]} is not valid: it is required.",
                }
            )
            continue
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            failed += 1
            entries.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
            continue
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": ctx.account_id,
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": ctx.region,
            "resources": entry.get("Resources") or [],
            "detail": detail,
        }
        deliver(ctx.account_id, ctx.region, event, entry.get("EventBusName") or "default")
        entries.append({"EventId": event["id"]})
    return {"FailedEntryCount": failed, "Entries": entries}
