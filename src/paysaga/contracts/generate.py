"""JSON Schemas (one per event) and the AsyncAPI 3 document, generated from the event models.

`paysaga contracts` rewrites them; a test fails while the checked-in files differ from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from paysaga.contracts import cloudevents
from paysaga.contracts.bus import PUBLISHERS, consumers_of
from paysaga.contracts.events import ALL_EVENTS, Event
from paysaga.contracts.topics import ALL_TOPICS

HERE = Path(__file__).parent
SCHEMA_DIR = HERE / "schemas"
ASYNCAPI_FILE = HERE / "asyncapi.yaml"

KEYS = {"payment-events": "paymentId", "callback-events": "providerTxnId", "customer-events": "userId"}


def event_schema(event: type[Event]) -> dict[str, Any]:
    schema = event.model_json_schema(by_alias=True, mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{event.type_name()}.json",
        **schema,
    }


def headers_schema() -> dict[str, Any]:
    string = {"type": "string"}
    return {
        "type": "object",
        "required": [*cloudevents.REQUIRED_HEADERS, cloudevents.H_CONTENT_TYPE],
        "properties": {
            cloudevents.H_SPECVERSION: {"const": cloudevents.SPEC_VERSION},
            cloudevents.H_ID: {
                **string,
                "description": "Unique event id (UUID); consumers deduplicate on it",
            },
            cloudevents.H_TYPE: {**string, "description": "The event name, e.g. PaymentInitiated"},
            cloudevents.H_SOURCE: {**string, "description": "URI-reference of the producing service"},
            cloudevents.H_TIME: {**string, "format": "date-time"},
            cloudevents.H_CONTENT_TYPE: {"const": cloudevents.CONTENT_TYPE},
            cloudevents.H_TRACEPARENT: {**string, "description": "W3C trace context"},
        },
    }


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        events = [e for e in ALL_EVENTS if e.topic == topic]
        channels[topic] = {
            "address": topic,
            "description": f"Partition key: {KEYS[topic]}. Consumer groups: {', '.join(consumers_of(topic))}.",
            "messages": {e.type_name(): {"$ref": f"#/components/messages/{e.type_name()}"} for e in events},
            "bindings": {"kafka": {"partitions": 6, "bindingVersion": "0.5.0"}},
        }
        for e in events:
            name = e.type_name()
            messages[name] = {
                "name": name,
                "contentType": cloudevents.CONTENT_TYPE,
                "headers": {"$ref": "#/components/schemas/CloudEventsHeaders"},
                "payload": {"$ref": f"./schemas/{name}.json"},
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": KEYS[topic]},
                        "bindingVersion": "0.5.0",
                    }
                },
            }
            operations[f"{PUBLISHERS[e]}Publishes{name}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{topic}"},
                "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"}],
            }
        for group in consumers_of(topic):
            operations[f"{group.replace('-', '')}Consumes{topic.replace('-', '')}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{topic}"},
                "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": "0.5.0"}},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "PaySaga events",
            "version": "1.0.0",
            "description": "The payment saga's topics. CloudEvents Kafka binding, binary mode.",
        },
        "defaultContentType": cloudevents.CONTENT_TYPE,
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventsHeaders": headers_schema()}},
    }


def _documents() -> dict[Path, str]:
    docs = {
        SCHEMA_DIR / f"{e.type_name()}.json": json.dumps(event_schema(e), indent=2, ensure_ascii=False) + "\n"
        for e in ALL_EVENTS
    }
    docs[ASYNCAPI_FILE] = yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True)
    return docs


def write_documents(*, check: bool = False) -> list[str]:
    """Write the documents (or with `check`, only compare); return the stale ones."""
    stale = []
    for path, text in _documents().items():
        if not path.exists() or path.read_text() != text:
            stale.append(str(path.relative_to(HERE)))
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    return stale
