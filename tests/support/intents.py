"""A place's lock file and the intent a run left in it (environment/placelock.py), as the tests read them."""

import json
from pathlib import Path


def lock_of(place: Path) -> Path:
    return place.parent / f".{place.name}.mambaboot-lock"


def intent_of(place: Path) -> dict:
    text = lock_of(place).read_bytes().rstrip(b" ")
    return json.loads(text) if text else {}
