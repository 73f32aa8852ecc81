"""Events written for an answer in the EPC form the caller asked for (`GS1-EPC-Format`)."""

from __future__ import annotations

from typing import Any

from app.epcis.document import EPC_LISTS, QUANTITY_LISTS
from app.epcis.identifiers import EPCFormat, PrefixLength, company_prefix_length, render

_KEEP = frozenset({EPCFormat.NO_PREFERENCE, EPCFormat.NEVER_TRANSLATES})
_GUESSED = company_prefix_length()


def render_event(
    event: dict[str, Any], fmt: EPCFormat, prefix_length: PrefixLength = _GUESSED
) -> dict[str, Any]:
    if fmt in _KEEP:
        return event
    out = dict(event)

    def one(text: Any) -> Any:
        return render(text, fmt, prefix_length) if isinstance(text, str) else text

    for name in EPC_LISTS:
        if name in out:
            out[name] = [one(epc) for epc in out[name]]
    for name in QUANTITY_LISTS:
        if name in out:
            out[name] = [{**item, "epcClass": one(item.get("epcClass"))} for item in out[name]]
    if "parentID" in out:
        out["parentID"] = one(out["parentID"])
    for name in ("readPoint", "bizLocation"):
        if isinstance(out.get(name), dict):
            out[name] = {**out[name], "id": one(out[name].get("id"))}
    return out
