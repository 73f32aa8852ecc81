"""What a patient sees after scanning a pack's QR code: a plain verdict, in Persian and English,
with only what a patient needs (product, batch, expiry, status) — never where the pack has been.
The verdict is decided here, once, for the page and for programs alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from app.errors import InvalidInput
from app.packs import service as packs
from models.codes import CodeError, PackCode, parse_pack_code


@dataclass(frozen=True)
class Verdict:
    code: str  # genuine | recalled | withdrawn | expired | batch_mismatch | expiry_mismatch |
    # dispensed | stolen | decommissioned | unknown | invalid
    tone: str  # ok | warning | danger
    en: str
    fa: str


_RETURN_IT = ("Do not use it; return it to your pharmacy.",
              "مصرف نکنید و آن را به داروخانه برگردانید.")  # fmt: skip
_VERDICTS = {
    "genuine": Verdict("genuine", "ok",
                       "Genuine: this pack is registered and has not been supplied yet.",
                       "اصل: این بسته ثبت شده و هنوز تحویل نشده است."),
    "dispensed": Verdict("dispensed", "warning",
                         "This pack was already handed to a patient. If you have just received "
                         "it, ask your pharmacist: a second pack with this code may be a copy.",
                         "این بسته پیش‌تر به بیمار تحویل شده است. اگر همین حالا آن را گرفته‌اید "
                         "از داروساز بپرسید؛ بسته‌ی دوم با این کد ممکن است تقلبی باشد."),
    "unknown": Verdict("unknown", "danger",
                       "Unknown code: this pack is not in the national register. Do not use it; "
                       "report it to the Food and Drug Organization.",
                       "کد ناشناخته: این بسته در سامانه‌ی ملی ثبت نشده است. مصرف نکنید و به "
                       "سازمان غذا و دارو گزارش دهید."),
    "expired": Verdict("expired", "danger", "Expired: do not use this medicine.",
                       "تاریخ مصرف گذشته است: این دارو را مصرف نکنید."),
    "recalled": Verdict("recalled", "danger",
                        "Recalled: this batch has been recalled by the Food and Drug "
                        f"Organization. {_RETURN_IT[0]}",
                        "فراخوان شده: سازمان غذا و دارو این سری ساخت را فراخوان کرده است. "
                        + _RETURN_IT[1]),
    "withdrawn": Verdict("withdrawn", "danger",
                         f"Withdrawn: this batch has been withdrawn from the market. "
                         f"{_RETURN_IT[0]}",
                         "جمع‌آوری شده: این سری ساخت از بازار جمع‌آوری شده است. "
                         + _RETURN_IT[1]),
    "stolen": Verdict("stolen", "danger",
                      "Reported stolen: this pack was reported stolen. Do not use it; report "
                      "it to the Food and Drug Organization.",
                      "گزارش سرقت: سرقت این بسته گزارش شده است. مصرف نکنید و به سازمان غذا و "
                      "دارو گزارش دهید."),
    "decommissioned": Verdict("decommissioned", "danger",
                              "Do not use this pack: it has been taken out of supply. "
                              "Return it to a pharmacy.",
                              "این بسته را مصرف نکنید: از چرخه‌ی توزیع خارج شده است. آن را به "
                              "داروخانه برگردانید."),
    "invalid": Verdict("invalid", "danger",
                       "Not a valid code: this link is not a correct code for a medicine pack. "
                       "It may be misprinted or misread, or the pack may be fake. Ask your "
                       "pharmacist before using it.",
                       "کد معتبر نیست: این پیوند کد درستی برای بسته‌ی دارو نیست. ممکن است "
                       "نادرست چاپ یا خوانده شده باشد، یا بسته تقلبی باشد. پیش از مصرف از "
                       "داروساز بپرسید."),
}  # fmt: skip
_BY_STATUS = {"active": "genuine", "dispensed": "dispensed", "stolen": "stolen",
              "unknown": "unknown"}  # fmt: skip


def _batch_mismatch(on_code: str, registered: str) -> Verdict:
    return Verdict(
        "batch_mismatch",
        "danger",
        f"The batch on this code ({on_code}) does not match the national register, which "
        f"records this pack in batch {registered}. Do not use it; ask your pharmacist.",
        f"سری ساخت روی این کد ({on_code}) با سامانه‌ی ملی هم‌خوانی ندارد؛ این بسته در سامانه "
        f"با سری ساخت {registered} ثبت شده است. مصرف نکنید و از داروساز بپرسید.",
    )


def _expiry_mismatch(on_code: date, registered: date) -> Verdict:
    return Verdict(
        "expiry_mismatch",
        "danger",
        f"The expiry date on this code ({on_code.isoformat()}) does not match the national "
        f"register, which records {registered.isoformat()}. Do not use it; ask your pharmacist.",
        f"تاریخ انقضای روی این کد ({on_code.isoformat()}) با سامانه‌ی ملی هم‌خوانی ندارد؛ در "
        f"سامانه {registered.isoformat()} ثبت شده است. مصرف نکنید و از داروساز بپرسید.",
    )


@dataclass(frozen=True)
class PatientView:
    status: str
    verdict: Verdict
    gtin: str
    serial: str | None
    lot: str | None  # as the register records it (as the code says, for an unknown pack)
    expiry: date | None
    product: dict[str, Any] | None
    lot_on_code: str | None = None
    expiry_on_code: date | None = None
    detail: str = ""  # why a code is not valid, for programs and the curious

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.code,
            "status": self.status,
            "message": {"tone": self.verdict.tone, "en": self.verdict.en, "fa": self.verdict.fa},
            "gtin": self.gtin,
            "serial": self.serial,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "lot_on_code": self.lot_on_code,
            "expiry_on_code": self.expiry_on_code.isoformat() if self.expiry_on_code else None,
            "product": self.product,
        }


class InvalidLink(InvalidInput):
    """A link that is no pack's code; `view` is the page a person is shown instead."""

    def __init__(self, detail: str, view: PatientView) -> None:
        super().__init__(detail)
        self.view = view


async def patient_view(connection: psycopg.AsyncConnection[Any], link: str) -> PatientView:
    """`link`: the GS1 Digital Link URI as requested (any host)."""
    try:
        code = parse_pack_code(link)
    except CodeError as exc:
        raise _invalid(link, f"This link is not a valid GS1 Digital Link: {exc}") from exc
    if code.serial is None:
        raise _invalid(link, "This link names a product, not a pack: scan the pack's own code.")
    view = await packs.view(connection, None, code)
    product = None
    if view.product is not None:
        product = {
            key: view.product[key] for key in ("name", "name_fa", "generic_name", "strength")
        }
    return PatientView(
        view.status,
        _verdict(code, view),
        view.gtin,
        view.serial,
        view.lot,
        view.expiry,
        product,
        lot_on_code=code.lot,
        expiry_on_code=code.expiry,
    )


def _verdict(code: PackCode, view: packs.PackView) -> Verdict:
    """A code that disagrees with the register first (the pack in hand may not be the pack
    registered, so the register's recall or expiry need not be its own); then what the batch
    says; then the pack's own state."""
    if view.status != "unknown":
        if code.lot is not None and view.lot is not None and code.lot != view.lot:
            return _batch_mismatch(code.lot, view.lot)
        if code.expiry is not None and view.expiry is not None and code.expiry != view.expiry:
            return _expiry_mismatch(code.expiry, view.expiry)
    for overlay in ("recalled", "withdrawn", "expired"):
        if overlay in view.overlays:
            return _VERDICTS[overlay]
    return _VERDICTS[_BY_STATUS.get(view.status, "decommissioned")]


def _invalid(link: str, detail: str) -> InvalidLink:
    """What the link's path names, as written (nothing in it could be trusted or checked)."""
    segments = [unquote(part) for part in urlsplit(link).path.split("/")]
    start = segments.index("01") if "01" in segments else len(segments)
    named = dict(zip(segments[start::2], segments[start + 1 :: 2], strict=False))
    view = PatientView(
        "invalid",
        _VERDICTS["invalid"],
        named.get("01", ""),
        named.get("21"),
        named.get("10"),
        None,
        None,
        detail=detail,
    )
    return InvalidLink(detail, view)
