"""What a patient sees after scanning a pack's QR code: a plain verdict, in Persian and English,
with only what a patient needs (product, batch, expiry, status) — never where the pack has been."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from app.errors import InvalidInput
from app.packs import service as packs
from models.codes import CodeError, parse_pack_code


@dataclass(frozen=True)
class Verdict:
    tone: str  # ok | warning | danger
    en: str
    fa: str


_VERDICTS = {
    "active": Verdict("ok", "Genuine: this pack is registered and has not been supplied yet.",
                      "اصل: این بسته ثبت شده و هنوز تحویل نشده است."),
    "dispensed": Verdict("warning",
                         "This pack was already handed to a patient. If you have just received "
                         "it, ask your pharmacist: a second pack with this code may be a copy.",
                         "این بسته پیش‌تر به بیمار تحویل شده است. اگر همین حالا آن را گرفته‌اید "
                         "از داروساز بپرسید؛ بسته‌ی دوم با این کد ممکن است تقلبی باشد."),
    "unknown": Verdict("danger",
                       "Unknown code: this pack is not in the national register. Do not use it; "
                       "report it to the Food and Drug Organization.",
                       "کد ناشناخته: این بسته در سامانه‌ی ملی ثبت نشده است. مصرف نکنید و به "
                       "سازمان غذا و دارو گزارش دهید."),
    "expired": Verdict("danger", "Expired: do not use this medicine.",
                       "تاریخ مصرف گذشته است: این دارو را مصرف نکنید."),
    "recalled": Verdict("danger",
                        "Recalled: this batch has been recalled by the Food and Drug "
                        "Organization. Do not use it; return it to your pharmacy.",
                        "فراخوان شده: سازمان غذا و دارو این سری ساخت را فراخوان کرده است. "
                        "مصرف نکنید و آن را به داروخانه برگردانید."),
}  # fmt: skip
_MISMATCH = Verdict(
    "danger",
    "The code on this pack does not match the national register. Do not use it; ask your "
    "pharmacist.",
    "کد این بسته با سامانه‌ی ملی هم‌خوانی ندارد. مصرف نکنید و از داروساز بپرسید.",
)
_DO_NOT_USE = Verdict(
    "danger",
    "Do not use this pack: it has been withdrawn from supply. Return it to a pharmacy.",
    "این بسته را مصرف نکنید: از چرخه‌ی توزیع خارج شده است. آن را به داروخانه برگردانید.",
)


@dataclass(frozen=True)
class PatientView:
    status: str
    verdict: Verdict
    gtin: str
    serial: str | None
    lot: str | None
    expiry: date | None
    product: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "verdict": {"tone": self.verdict.tone, "en": self.verdict.en, "fa": self.verdict.fa},
            "gtin": self.gtin,
            "serial": self.serial,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "product": self.product,
        }


async def patient_view(connection: psycopg.AsyncConnection[Any], link: str) -> PatientView:
    """`link`: the GS1 Digital Link URI as requested (any host)."""
    try:
        code = parse_pack_code(link)
    except CodeError as exc:
        raise InvalidInput(f"This link is not a valid GS1 Digital Link: {exc}") from exc
    if code.serial is None:
        raise InvalidInput("This link names a product, not a pack: scan the pack's own code.")
    view = await packs.view(connection, None, code)
    if "recalled" in view.overlays or "withdrawn" in view.overlays:
        verdict = _VERDICTS["recalled"]
    elif "expired" in view.overlays:
        verdict = _VERDICTS["expired"]
    elif "mismatch" in view.reason:
        verdict = _MISMATCH
    else:
        verdict = _VERDICTS.get(view.status, _DO_NOT_USE)
    product = None
    if view.product is not None:
        product = {
            key: view.product[key] for key in ("name", "name_fa", "generic_name", "strength")
        }
    return PatientView(view.status, verdict, view.gtin, view.serial, view.lot, view.expiry, product)
