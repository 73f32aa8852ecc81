"""Ninety days of the demo world's past, for `serve --demo`: batches serialized, shipped to the
distributors, on to pharmacies and a hospital in four provinces, dispensed day by day (busy
weekdays, quiet Fridays), a few returns and destructions, two suspected counterfeits and a cloned
code, and an open recall partly carried out. Everything goes through the services the API uses
(commissioning, the events service, recalls), so projections, alerts and summaries agree with
the events. The rhythm is drawn from a seeded random generator, the same every time; the packs'
serials are drawn afresh, as commissioning always does. Recorded once: a later start finds the
history's first batch and stops there."""

from __future__ import annotations

import math
import random
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.principal import Principal
from app.catalog import service as catalog
from app.db.database import Database
from app.demo_supply import (
    HUB_FOR,
    MASHHAD_HUB,
    PRODUCTS,
    SHIRAZ_HUB,
    TEHRAN_HUB,
    demo_gtin,
    principals_by_username,
    serials_of,
)
from app.events import service as events
from app.facilities.directory import FacilityDirectory
from app.packs import commissioning
from app.recalls import service as recalls
from models.catalog import Batch, BatchOrigin
from models.events import Action
from models.identity import Facility
from models.recalls import RecallClass, RecallKind

DAYS = 90
SEED = 1404
# Iran has kept standard time all year since 2022.
TEHRAN_TIME = timezone(timedelta(hours=3, minutes=30))
THURSDAY, FRIDAY, SATURDAY = 3, 4, 5


@dataclass(frozen=True)
class HistoryLot:
    item: str
    lot: str
    packs: int
    days_ago: int  # when it was serialized
    expires_in_days: int = 730  # from today; one lot is close to its expiry date


LOTS = (
    HistoryLot("101", "AMX2606", 600, 89),
    HistoryLot("102", "MET2605", 500, 89),
    HistoryLot("103", "ATV2605", 400, 88),
    HistoryLot("104", "PNT2606", 400, 88),
    HistoryLot("105", "GLA26C11", 250, 87),
    HistoryLot("106", "SAL2511", 300, 87, expires_in_days=50),
    HistoryLot("101", "AMX2608", 600, 45),
)
RECALLED = LOTS[2]


@dataclass(frozen=True)
class Dispenser:
    user: str
    scale: float  # how busy, against an average pharmacy
    hub: str  # where Sina Darou's and Pars Import's medicines come from (Zagros's: Shiraz)
    hospital: bool = False


DISPENSERS = (
    Dispenser("razi-pharmacy", 1.3, TEHRAN_HUB),
    Dispenser("naghshejahan-pharmacy", 1.0, TEHRAN_HUB),
    Dispenser("hafez-pharmacy", 1.0, TEHRAN_HUB),
    Dispenser("ferdowsi-pharmacy", 0.9, MASHHAD_HUB),
    Dispenser("imamreza-hospital", 1.2, MASHHAD_HUB, hospital=True),
)
# On Fridays one pharmacy outside Mashhad is on call, in turn; the hospital never closes.
ON_CALL = ("razi-pharmacy", "naghshejahan-pharmacy", "hafez-pharmacy")
HUB_USER = {TEHRAN_HUB: "darupakhsh", MASHHAD_HUB: "darupakhsh", SHIRAZ_HUB: "fars-pakhsh"}
# Packs a day at an average pharmacy: insulin mostly at the hospital; antibiotics and inhalers
# more as winter comes.
DAILY_DEMAND = {"101": 0.8, "102": 0.55, "103": 0.3, "104": 0.3, "105": 0.12, "106": 0.3}
HOSPITAL_FACTOR = {"105": 3.0}
SEASONAL = frozenset({"101", "106"})
# Below a week of demand, a site is topped up to three weeks' (the plants ship what the
# distributors order; the rest of a lot waits at the plant).
REORDER_WEEKS, STOCK_WEEKS = 1.0, 3.0
REORDER_GAP = 7  # days at least between two deliveries from one hub to one site
# (days ago, dispenser, product, packs): found damaged, returned to the supplier, destroyed there.
RETURNS = (
    (61, "razi-pharmacy", "102", 2),
    (34, "ferdowsi-pharmacy", "101", 3),
    (15, "hafez-pharmacy", "104", 2),
)
BROKEN = (50, "imamreza-hospital", "105")  # an insulin pen dropped, destroyed where it broke
COUNTERFEITS = (
    (37, "naghshejahan-pharmacy", "104", "PNT8Q3X7ZK2M"),
    (12, "hafez-pharmacy", "105", "GLA4N7W2QX9B"),
)
# A code dispensed at the first pharmacy, scanned again at the second.
CLONED = (21, "razi-pharmacy", "hafez-pharmacy")


def _code(item: str, serial: str) -> str:
    return f"(01){demo_gtin(item)}(21){serial}"


def _owner(item: str) -> str:
    return next(product.owner for product in PRODUCTS if product.item == item)


def _supplier(dispenser: Dispenser, item: str) -> str:
    return SHIRAZ_HUB if _owner(item) == "zagros-pharmed" else dispenser.hub


@dataclass
class _Shipment:
    arrives: date
    receiver: str
    site: str
    codes: dict[str, list[str]]  # by product item
    returned: bool = False  # damaged packs coming back: destroyed after receipt


@dataclass
class _History:
    session: AsyncSession
    directory: FacilityDirectory
    who: dict[str, Principal]
    homes: dict[str, str]
    today: date
    # A seeded generator on purpose: the same history every time (nothing secret is drawn).
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))  # noqa: S311
    stock: dict[tuple[str, str], deque[str]] = field(default_factory=dict)  # (site, item)
    in_transit: list[_Shipment] = field(default_factory=list)
    last_delivery: dict[tuple[str, str], date] = field(default_factory=dict)  # (from, to)
    to_destroy: list[tuple[date, str, str, list[str]]] = field(default_factory=list)
    dispensed: dict[str, list[str]] = field(default_factory=dict)  # codes, by dispenser

    def held(self, site: str, item: str) -> deque[str]:
        return self.stock.setdefault((site, item), deque())

    def at(self, day: date, hour: float) -> datetime:
        return datetime.combine(day, time(), TEHRAN_TIME) + timedelta(hours=hour)

    async def record(
        self,
        user: str,
        action: Action,
        codes: Sequence[str],
        when: datetime | None,
        *,
        site: str | None = None,
        to: str | None = None,
        expect: int = 200,
    ) -> None:
        answer = await events.record(
            await commissioning.driver_connection(self.session),
            self.directory,
            self.who[user],
            events.EventRequest(
                event_id=uuid.uuid4(),
                action=action,
                codes=list(codes),
                facility_gln=site,
                destination_gln=to,
                event_time=when,
            ),
        )
        if answer.status_code != expect:
            raise RuntimeError(f"demo history: {user} {action.value}: {answer.body}")

    async def ship(
        self,
        sender: str,
        when: datetime,
        site: str,
        to: str,
        receiver: str,
        codes: dict[str, list[str]],
        *,
        action: Action = Action.ship,
    ) -> None:
        """Send the packs and note when they arrive (Tehran to Mashhad by road takes two days)."""
        flat = [code for item_codes in codes.values() for code in item_codes]
        await self.record(sender, action, flat, when, site=site, to=to)
        days = 2 if to == MASHHAD_HUB else 1
        arrives = when.date() + timedelta(days=days)
        returned = action is Action.return_
        self.in_transit.append(_Shipment(arrives, receiver, to, codes, returned))


async def record(session: AsyncSession) -> None:
    """Record the demo world's past 90 days, unless they are there already."""
    first = LOTS[0]
    if await session.get(Batch, (demo_gtin(first.item), first.lot)) is not None:
        return
    who = await principals_by_username(session)
    sites = {f.id: f.gln for f in (await session.exec(select(Facility))).all()}
    homes = {name: sites[p.facility_id] for name, p in who.items() if p.facility_id}
    history = _History(session, FacilityDirectory(), who, homes, datetime.now(TEHRAN_TIME).date())
    for days_ago in range(DAYS - 1, 0, -1):
        await _day(history, history.today - timedelta(days=days_ago), days_ago)
        await session.commit()
    await _recall(history)
    await session.commit()


async def record_database(db: Database) -> None:
    """The history through a pool of its own (for `serve --demo`, before the app starts)."""
    await db.open_pool()
    try:
        async with db.session() as session:
            await record(session)
    finally:
        await db.close_pool()


async def _day(h: _History, day: date, days_ago: int) -> None:
    """One day, in the order things happen: deliveries received in the morning, serialization
    at the plants, dispensing at the counters, returns at noon, shipments in the afternoon,
    destructions at the end of the day."""
    await _receive(h, day)
    for lot in LOTS:
        if lot.days_ago == days_ago:
            await _serialize(h, lot, day)
    await _dispense(h, day, days_ago)
    await _incidents(h, day, days_ago)
    await _returns(h, day, days_ago)
    await _deliveries(h, day)
    await _destroy(h, day, days_ago)


async def _receive(h: _History, day: date) -> None:
    arriving = [s for s in h.in_transit if s.arrives == day]
    h.in_transit = [s for s in h.in_transit if s.arrives != day]
    for n, shipment in enumerate(arriving):
        flat = [code for codes in shipment.codes.values() for code in codes]
        when = h.at(day, 8 + 0.25 * n + h.rng.random() * 0.2)
        await h.record(shipment.receiver, Action.receive, flat, when, site=shipment.site)
        if shipment.returned:
            h.to_destroy.append((day + timedelta(days=3), shipment.receiver, shipment.site, flat))
            continue
        for item, codes in shipment.codes.items():
            h.held(shipment.site, item).extend(codes)


async def _serialize(h: _History, lot: HistoryLot, day: date) -> None:
    owner = h.who[_owner(lot.item)]
    gtin = demo_gtin(lot.item)
    expiry = h.today + timedelta(days=lot.expires_in_days)
    made = min(day, expiry - timedelta(days=730)) - timedelta(days=4)
    origin = BatchOrigin.imported if _owner(lot.item) == "pars-import" else BatchOrigin.produced
    await catalog.create_batch(
        h.session, owner, catalog.NewBatch(gtin, lot.lot, expiry, made, lot.packs, origin)
    )
    when = h.at(day, 7.5)
    await commissioning.commission(
        h.session, h.directory, owner, gtin, lot.lot, lot.packs, event_time=when
    )
    serials = await serials_of(h.session, gtin, lot.lot)
    h.held(h.homes[_owner(lot.item)], lot.item).extend(_code(lot.item, s) for s in serials)


def _opening(dispenser: Dispenser, day: date) -> float:
    """How much of a normal day's trade: Thursdays are short, Fridays the weekend."""
    weekday = day.weekday()
    if weekday == FRIDAY:
        if dispenser.hospital:
            return 0.8
        on_call = ON_CALL[day.toordinal() // 7 % len(ON_CALL)]
        return 1.0 if dispenser.user == on_call else 0.0
    return 0.75 if weekday == THURSDAY and not dispenser.hospital else 1.0


def _daily_demand(dispenser: Dispenser, item: str) -> float:
    factor = HOSPITAL_FACTOR.get(item, 1.0) if dispenser.hospital else 1.0
    return DAILY_DEMAND[item] * dispenser.scale * factor


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


async def _dispense(h: _History, day: date, days_ago: int) -> None:
    """Each dispenser's day at the counter, its scans sent in one batch or, on busy days, two."""
    season = 0.8 + 0.4 * (DAYS - days_ago) / DAYS
    for dispenser in DISPENSERS:
        opening = _opening(dispenser, day)
        if not opening:
            continue
        site = h.homes[dispenser.user]
        picked: list[str] = []
        for item in DAILY_DEMAND:
            mean = _daily_demand(dispenser, item) * opening * (season if item in SEASONAL else 1)
            stock = h.held(site, item)
            picked += [stock.popleft() for _ in range(min(_poisson(h.rng, mean), len(stock)))]
        stocked = [stock for (at, _), stock in h.stock.items() if at == site and stock]
        if not picked and stocked:  # open all day, a counter supplies at least one pack
            picked.append(max(stocked, key=len).popleft())
        if not picked:
            continue
        h.rng.shuffle(picked)
        h.dispensed.setdefault(dispenser.user, []).extend(picked)
        sessions = 1 if len(picked) <= 5 else 2
        for n in range(sessions):
            codes = picked[n::sessions]
            when = h.at(day, 9.5 + 4 * n + 3 * h.rng.random())
            await h.record(dispenser.user, Action.dispense, codes, when, site=site)


async def _incidents(h: _History, day: date, days_ago: int) -> None:
    """The alerts an inspector finds: falsified packs at the counter, a cloned code."""
    for when_ago, user, item, serial in COUNTERFEITS:
        if when_ago == days_ago:
            fake = _code(item, serial)
            await h.record(user, Action.dispense, [fake], h.at(day, 11.2), expect=422)
    when_ago, first, second = CLONED
    if when_ago == days_ago:
        copied = h.dispensed[first][0]
        await h.record(second, Action.dispense, [copied], h.at(day, 12.4), expect=409)


async def _returns(h: _History, day: date, days_ago: int) -> None:
    for when_ago, user, item, count in RETURNS:
        if when_ago != days_ago:
            continue
        dispenser = next(d for d in DISPENSERS if d.user == user)
        site, hub = h.homes[user], _supplier(dispenser, item)
        stock = h.held(site, item)
        codes = [stock.pop() for _ in range(min(count, len(stock)))]
        when = h.at(day, 12 + h.rng.random())
        await h.ship(user, when, site, hub, HUB_USER[hub], {item: codes}, action=Action.return_)


def _sender(h: _History, site: str) -> str:
    return HUB_USER.get(site) or next(user for user, home in h.homes.items() if home == site)


def _routes(h: _History) -> list[tuple[str, str, str, dict[str, float]]]:
    """Every delivery route (from, to, receiver, weekly demand by product): each plant to its
    distributor's hub, each hub to the dispensers it supplies, and the Tehran hub to the
    Mashhad hub for what that one supplies."""
    routes: dict[tuple[str, str, str], dict[str, float]] = {}
    for dispenser in DISPENSERS:
        for item in DAILY_DEMAND:
            hub = _supplier(dispenser, item)
            owner = _owner(item)
            hub_user, first_hub = HUB_FOR[owner]
            from_plant = routes.setdefault((h.homes[owner], first_hub, hub_user), {})
            from_plant[item] = from_plant.get(item, 0.0) + 7 * _daily_demand(dispenser, item)
            key = (hub, h.homes[dispenser.user], dispenser.user)
            weekly = routes.setdefault(key, {})
            weekly[item] = weekly.get(item, 0.0) + 7 * _daily_demand(dispenser, item)
            if hub == MASHHAD_HUB:
                onward = routes.setdefault((TEHRAN_HUB, MASHHAD_HUB, "darupakhsh"), {})
                onward[item] = onward.get(item, 0.0) + 7 * _daily_demand(dispenser, item)
    return [(source, site, user, weekly) for (source, site, user), weekly in routes.items()]


async def _deliveries(h: _History, day: date) -> None:
    """A site is topped up when any of its medicines runs below a week of demand, at most every
    few days."""
    for n, (source, site, receiver, weekly) in enumerate(_routes(h)):
        last = h.last_delivery.get((source, site))
        if last is not None and (day - last).days < REORDER_GAP:
            continue
        coming = {
            item: sum(len(s.codes.get(item, ())) for s in h.in_transit if s.site == site)
            for item in weekly
        }
        position = {item: len(h.held(site, item)) + coming[item] for item in weekly}
        short = [i for i in weekly if position[i] < REORDER_WEEKS * weekly[i] and h.held(source, i)]
        if not short:
            continue
        codes: dict[str, list[str]] = {}
        for item, demand in weekly.items():
            stock = h.held(source, item)
            count = min(len(stock), max(0, math.ceil(STOCK_WEEKS * demand) - position[item]))
            if count:
                codes[item] = [stock.popleft() for _ in range(count)]
        when = h.at(day, 14.5 + 0.2 * n + 0.1 * h.rng.random())
        await h.ship(_sender(h, source), when, source, site, receiver, codes)
        h.last_delivery[(source, site)] = day


async def _destroy(h: _History, day: date, days_ago: int) -> None:
    due = [entry for entry in h.to_destroy if entry[0] == day]
    h.to_destroy = [entry for entry in h.to_destroy if entry[0] != day]
    for _, user, site, codes in due:
        await h.record(user, Action.destroy, codes, h.at(day, 17), site=site)
    when_ago, user, item = BROKEN
    stock = h.held(h.homes[user], item)
    if when_ago == days_ago and stock:
        await h.record(user, Action.destroy, [stock.pop()], h.at(day, 17.5))


async def _recall(h: _History) -> None:
    """Today an inspector recalls a batch. The distributor quarantines what it holds, one
    pharmacy has sent its packs back, three organisations have acknowledged; the rest is still
    out there, so the recall is open with partial progress."""
    connection = await commissioning.driver_connection(h.session)
    inspector = h.who["fdo-inspector"]
    order = recalls.RecallOrder(
        kind=RecallKind.recall,
        recall_class=RecallClass.II,
        gtin=demo_gtin(RECALLED.item),
        lots=[RECALLED.lot],
        whole_product=False,
        reason="Dissolution below specification at the 18-month stability time point.",
        instructions="Stop supplying the batch; quarantine it and return it to your supplier.",
        deadline=h.today + timedelta(days=21),
    )
    recall_id = await recalls.issue(connection, inspector, order)
    at_hub = list(h.held(SHIRAZ_HUB, RECALLED.item))
    if at_hub:
        await h.record("fars-pakhsh", Action.lock, at_hub, None, site=SHIRAZ_HUB)
    hafez = h.homes["hafez-pharmacy"]
    returned = list(h.held(hafez, RECALLED.item))
    if returned:
        await h.record("hafez-pharmacy", Action.return_, returned, None, to=SHIRAZ_HUB)
    for user in ("fars-pakhsh", "hafez-pharmacy", "razi-pharmacy"):
        await recalls.acknowledge(connection, h.who[user], recall_id)
