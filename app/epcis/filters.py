"""What an EPCIS query asks for, once its parameters are read: the one shape both sources of
events answer (the events captured as EPCIS, and the register's own events seen as EPCIS), so
that a partner follows a pack whichever way its events came in."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# Identifiers are compared in their canonical GS1 Digital Link form (`https://id.gs1.org/...`),
# other URIs as sent. A pattern (an EPC `idpat` URN, or a DL URI asked with `*`) matches every
# key that starts with `key`.


@dataclass(frozen=True)
class EpcMatch:
    key: str
    prefix: bool = False

    def matches(self, candidate: str) -> bool:
        return candidate.startswith(self.key) if self.prefix else candidate == self.key


@dataclass(frozen=True)
class Visibility:
    """What a caller may see: everything (inspectors), else the events at its organisation's
    facilities, those it captured, and those that name its organisation's products."""

    organization_id: uuid.UUID | None = None
    facility_ids: frozenset[uuid.UUID] = frozenset()
    gtins: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return self.organization_id is None


OrderBy = Literal["eventTime", "recordTime"]


@dataclass(frozen=True)
class Cursor:
    """Where the previous page stopped: the last event's ordering time and its place in the
    total order (`source` "c" captured, "r" the register's; `key` its row's id within it)."""

    time: datetime
    source: str
    key: str


@dataclass(frozen=True)
class EventQuery:
    event_types: frozenset[str] | None = None
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    actions: frozenset[str] | None = None
    # CBV values in their bare form (`shipping`), anything else as the URI sent.
    biz_steps: frozenset[str] | None = None
    dispositions: frozenset[str] | None = None
    biz_locations: tuple[EpcMatch, ...] | None = None
    read_points: tuple[EpcMatch, ...] | None = None
    # epcList and childEPCs (MATCH_epc), those and the parent and inputs and outputs
    # (MATCH_anyEPC), the parent only, the quantity lists' classes.
    match_epc: tuple[EpcMatch, ...] | None = None
    match_any_epc: tuple[EpcMatch, ...] | None = None
    match_parent_id: tuple[EpcMatch, ...] | None = None
    match_input_epc: tuple[EpcMatch, ...] | None = None
    match_output_epc: tuple[EpcMatch, ...] | None = None
    match_epc_class: tuple[EpcMatch, ...] | None = None
    match_any_epc_class: tuple[EpcMatch, ...] | None = None
    # EQ_bizTransaction_<type>: type → the transaction URIs asked.
    biz_transactions: dict[str, frozenset[str]] = field(default_factory=dict)
    # EQ_source_<type> / EQ_destination_<type>.
    sources: dict[str, frozenset[str]] = field(default_factory=dict)
    destinations: dict[str, frozenset[str]] = field(default_factory=dict)
    event_ids: frozenset[str] | None = None
    order_by: OrderBy = "eventTime"
    descending: bool = True
    per_page: int = 30
    after: Cursor | None = None
    visibility: Visibility = field(default_factory=Visibility)


@dataclass(frozen=True)
class FoundEvent:
    """One event of a page: its JSON as an EPCIS 2.0 event (with `recordTime`) and its place
    in the order."""

    cursor: Cursor
    document: dict[str, Any]


def register_may_match(query: EventQuery) -> bool:
    """False for filters the register's events can never meet (they are all ObjectEvents or
    AggregationEvents, with no quantity lists or transformations)."""
    kinds = query.event_types
    if kinds is not None and not kinds & {"ObjectEvent", "AggregationEvent"}:
        return False
    return not (query.match_input_epc or query.match_output_epc or query.match_epc_class)


def visible_sites(visibility: Visibility) -> Collection[uuid.UUID] | None:
    return None if visibility.everything else visibility.facility_ids
