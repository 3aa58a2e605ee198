"""Callback records as Amazon Connect and Genesys Cloud send them (shapes of their documented
samples), at times given by the test."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

INSTANCE = "arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111"
AGENT_ARN = INSTANCE + "/agent/a1b2c3d4-0000-4000-8000-000000000001"


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def connect(
    kind: str,
    contact: str,
    *,
    queue: str,
    method: str = "INBOUND",
    previous: str | None = None,
    initiated: datetime,
    enqueued: datetime | None = None,
    connected: datetime | None = None,
    disconnected: datetime | None = None,
) -> str:
    detail: dict[str, Any] = {
        "eventType": kind,
        "contactId": contact,
        "channel": "VOICE",
        "instanceArn": INSTANCE,
        "initiationMethod": method,
        "initiationTimestamp": _iso(initiated),
        "queueInfo": {
            "queueArn": f"{INSTANCE}/queue/{queue}",
            "enqueueTimestamp": _iso(enqueued or initiated),
        },
    }
    if method != "CALLBACK":
        detail["initialContactId"] = contact
    if previous:
        detail["previousContactId"] = previous
    if connected:
        detail["agentInfo"] = {"agentArn": AGENT_ARN, "connectedToAgentTimestamp": _iso(connected)}
    if disconnected:
        detail["disconnectTimestamp"] = _iso(disconnected)
    return json.dumps(
        {"detail-type": "Amazon Connect Contact Event", "source": "aws.connect", "detail": detail}
    )


def genesys(
    kind: str, conversation: str, t: datetime, *, queue: str, media: str = "VOICE", **body: Any
) -> str:
    return json.dumps(
        {
            "topicName": f"v2.detail.events.conversation.{conversation}.{kind}",
            "eventBody": {
                "eventTime": int(t.timestamp() * 1000),
                "conversationId": conversation,
                "queueId": queue,
                "mediaType": media,
                **body,
            },
        }
    )
