"""`/start <payload>` deep links: `t.me/<bot>?start=event_12`, an organization's invite link
`...?start=org_<code>` (its random code, rotatable), a directory card `...?start=dir_<slug>`, a
resource `res_<id>` and a joint position `pos_<id>`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERNS = {
    "event": re.compile(r"event_(\d{1,12})"),
    "training": re.compile(r"training_(\d{1,12})"),
    "survey": re.compile(r"survey_(\d{1,12})"),
    "org": re.compile(r"org_([A-Za-z0-9_-]{1,60})"),
    "dir": re.compile(r"dir_([a-z0-9-]{1,60})"),
    "res": re.compile(r"res_(\d{1,12})"),
    "pos": re.compile(r"pos_(\d{1,12})"),
}


@dataclass(frozen=True)
class DeepLink:
    kind: str
    value: str

    def payload(self) -> str:
        return f"{self.kind}_{self.value}"


def parse_deep_link(payload: str | None) -> DeepLink | None:
    """A known deep link, or None for anything else (Telegram allows up to 64 of [A-Za-z0-9_-])."""
    if not payload:
        return None
    payload = payload.strip()
    for kind, pattern in _PATTERNS.items():
        match = pattern.fullmatch(payload)
        if match:
            return DeepLink(kind, match.group(1))
    return None
