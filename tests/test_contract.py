"""The MQTT event contract: what the edge builds, the server accepts; everything else is refused."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from dealergate.contract import ARRIVAL_SUBSCRIPTION, ArrivalEvent, arrival_json_schema, arrival_topic

DOC = Path(__file__).resolve().parent.parent / "docs" / "mqtt.md"


def _event(**over: object) -> dict:
    base = {
        "site": "demo",
        "camera": "gate-1",
        "plate": "粤A3K7F2",
        "confidence": 0.93,
        "captured_at": "2026-11-25T09:41:07+08:00",
    }
    base.update(over)
    return base


def test_round_trip_keeps_chinese_readable() -> None:
    event = ArrivalEvent.model_validate(_event(plate_type="blue", plate_color="blue"))
    payload = event.to_payload()
    assert "粤A3K7F2".encode() in payload
    assert ArrivalEvent.from_payload(payload) == event
    assert event.topic() == "dealergate/demo/gate-1/arrival"
    assert isinstance(event.event_id, uuid.UUID)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"plate": "ABC"}, "plate"),
        ({"plate": "粤A3K7F2<script>"}, "plate"),
        ({"confidence": 1.5}, "confidence"),
        ({"captured_at": "2026-11-25T09:41:07"}, "captured_at"),  # no time zone
        ({"site": "Demo Site"}, "site"),
        ({"schema_version": 2}, "schema_version"),
        ({"colour": "blue"}, "colour"),  # unknown field: a typo must not pass silently
        ({"crop_ref": "../../etc/passwd"}, "crop_ref"),
        ({"frame_ref": "/etc/passwd"}, "frame_ref"),
        ({"frame_ref": "gate-1/../../x.jpg"}, "frame_ref"),
        ({"char_confidences": [0.9, 1.2]}, "char_confidences"),
    ],
)
def test_malformed_payload_names_the_field(override: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        ArrivalEvent.from_payload(json.dumps(_event(**override)))
    assert field in str(err.value)


def test_not_json_is_rejected() -> None:
    with pytest.raises(ValidationError):
        ArrivalEvent.from_payload(b"\xff\xfe not json")


def test_schema_accepts_what_the_model_builds() -> None:
    schema = arrival_json_schema()
    payload = json.loads(ArrivalEvent.model_validate(_event()).to_payload())
    jsonschema.validate(payload, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**payload, "confidence": -1}, schema)


def test_docs_carry_the_current_schema() -> None:
    """docs/mqtt.md must show the schema the code validates with (regenerate it when this fails)."""
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert json.loads(blocks[-1]) == json.loads(json.dumps(arrival_json_schema()))
    ArrivalEvent.model_validate_json(blocks[0])  # the example validates too


def test_topics() -> None:
    assert arrival_topic("demo", "gate-1") == "dealergate/demo/gate-1/arrival"
    assert ARRIVAL_SUBSCRIPTION == "dealergate/+/+/arrival"


def test_revision_and_departure_are_optional_and_checked() -> None:
    """A first publication looks exactly as before (no `revision` key); corrections and departures
    round-trip; a negative revision or an unknown kind is refused."""
    first = ArrivalEvent.model_validate(_event())
    assert first.revision == 0 and first.kind == "arrival"
    assert "revision" not in json.loads(first.to_payload())
    fix = first.model_copy(update={"revision": 2, "plate": "粤A3K7F8"})
    assert json.loads(fix.to_payload())["revision"] == 2
    assert ArrivalEvent.from_payload(fix.to_payload()) == fix
    out = ArrivalEvent.model_validate(_event(kind="departure"))
    assert ArrivalEvent.from_payload(out.to_payload()).kind == "departure"
    for bad, field in (({"revision": -1}, "revision"), ({"kind": "leaving"}, "kind")):
        with pytest.raises(ValidationError) as err:
            ArrivalEvent.from_payload(json.dumps(_event(**bad)))
        assert field in str(err.value)
