"""Who hung up, from the fields real telephony systems export, mapped to `agent`/`customer`.

Outbound telesales: the platform (agent side) places the call to the customer.
- FreeSWITCH `sip_hangup_disposition` on the customer leg (`direction` = outbound, the default):
  send_* means the platform ended it (the agent), recv_* the customer. On an inbound leg (the
  agent's phone calling into the switch) it is the other way round.
- Amazon Connect `DisconnectReason`: AGENT_DISCONNECT / CUSTOMER_DISCONNECT; other reasons
  (THIRD_PARTY_DISCONNECT, TELECOM_PROBLEM, CONTACT_FLOW_DISCONNECT, ...) name neither.
- Huawei `callRelDirection`: 1 the calling party (the agent side) hung up first, 2 the called
  party (the customer).
- Alibaba Cloud `HangupRole`: 0 the agent, 1 the customer, 2 a transfer (neither).
"""

from __future__ import annotations

from collections.abc import Mapping

from qa_pipeline.ingest.model import HangupBy

_SIDES = ("send_bye", "send_cancel", "send_refuse", "recv_bye", "recv_cancel", "recv_refuse")
_CONNECT = {"AGENT_DISCONNECT": "agent", "CUSTOMER_DISCONNECT": "customer"}
_CONNECT_NEITHER = (
    "THIRD_PARTY_DISCONNECT", "TELECOM_PROBLEM", "CONTACT_FLOW_DISCONNECT", "BARGED", "OTHER",
    "EXPIRED", "API", "DISCONNECT_REASON_UNSPECIFIED", "CONTACT_DISCONNECTED",
)  # fmt: skip
_HUAWEI = {"1": "agent", "2": "customer"}
_ALIBABA = {"0": "agent", "1": "customer", "2": None}


class HangupValueError(ValueError):
    pass


def _freeswitch(value: str, direction: str) -> HangupBy:
    if value not in _SIDES:
        raise HangupValueError(f"sip_hangup_disposition {value!r}: valid are {', '.join(_SIDES)}")
    if direction not in ("outbound", "inbound"):
        raise HangupValueError(f"direction {direction!r}: valid are outbound, inbound")
    platform_sent = value.startswith("send_")
    return "agent" if platform_sent == (direction == "outbound") else "customer"


def _table(
    name: str, value: str, table: Mapping[str, str | None], neither: tuple[str, ...] = ()
) -> HangupBy:
    if value in table:
        found = table[value]
        return "agent" if found == "agent" else "customer" if found == "customer" else None
    if value in neither:
        return None
    raise HangupValueError(f"{name} {value!r}: valid are {', '.join([*table, *neither])}")


def hangup_from(row: Mapping[str, str]) -> HangupBy:
    """The first hang-up field present in a CDR row, mapped; HangupValueError on bad values."""
    value = (row.get("hangup_by") or "").strip()
    if value:
        return _table("hangup_by", value.lower(), {"agent": "agent", "customer": "customer"})
    value = (row.get("sip_hangup_disposition") or "").strip()
    if value:
        return _freeswitch(value, (row.get("direction") or "outbound").strip().lower())
    value = (row.get("DisconnectReason") or "").strip()
    if value:
        return _table("DisconnectReason", value.upper(), _CONNECT, _CONNECT_NEITHER)
    value = (row.get("callRelDirection") or "").strip()
    if value:
        return _table("callRelDirection", value, _HUAWEI)
    value = (row.get("HangupRole") or "").strip()
    if value:
        return _table("HangupRole", value, _ALIBABA)
    return None
