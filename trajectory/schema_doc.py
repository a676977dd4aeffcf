"""Print the event JSON Schema (docs/event-schema.json is this output; a test fails when they drift)."""

from __future__ import annotations

import json

from trajectory.events import json_schema


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
