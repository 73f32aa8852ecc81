"""The words the console shows for the register's codes (pack states, CBV steps, outcomes,
alerts, roles): English here, Persian in the gettext catalogue. A fixed table, so that the same
code always reads the same way on every page."""

from __future__ import annotations

from models.alerts import AlertCode, AlertStatus, Severity
from models.events import Action, Outcome
from models.packs import Overlay, PackStatus
from models.roles import Role


def N_(message: str) -> str:
    """Marks a message for extraction into the catalogue; translated where it is shown."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "status": {
        PackStatus.active: N_("Active: may be supplied"),
        PackStatus.dispensed: N_("Dispensed to a patient"),
        PackStatus.exported: N_("Exported"),
        PackStatus.sample: N_("Taken as a sample"),
        PackStatus.free_sample: N_("Free sample"),
        PackStatus.locked: N_("Locked"),
        PackStatus.checked_out: N_("Checked out"),
        PackStatus.stolen: N_("Stolen"),
        PackStatus.destroyed: N_("Destroyed"),
        "unknown": N_("Unknown: not in the register (suspected counterfeit)"),
    },
    "overlay": {
        Overlay.expired: N_("Expired"),
        Overlay.recalled: N_("Recalled"),
        Overlay.withdrawn: N_("Withdrawn"),
    },
    "action": {
        Action.commission: N_("Commissioned"),
        Action.ship: N_("Shipped"),
        Action.receive: N_("Received"),
        Action.dispense: N_("Dispensed"),
        Action.undo: N_("Undone"),
        Action.return_: N_("Returned"),
        Action.destroy: N_("Destroyed"),
        Action.export: N_("Exported"),
        Action.sample: N_("Sampled"),
        Action.free_sample: N_("Given as a free sample"),
        Action.lock: N_("Locked"),
        Action.unlock: N_("Unlocked"),
        Action.check_out: N_("Checked out"),
        Action.stolen: N_("Reported stolen"),
        Action.pack: N_("Packed into a case"),
        Action.unpack: N_("Unpacked from a case"),
    },
    "outcome": {
        Outcome.ok: N_("ok"),
        Outcome.warning: N_("warning"),
        Outcome.refused: N_("refused"),
    },
    "alert": {
        AlertCode.unknown_product: N_("Unknown product"),
        AlertCode.unknown_serial: N_("Unknown serial (suspected counterfeit)"),
        AlertCode.batch_mismatch: N_("Batch does not match"),
        AlertCode.expiry_mismatch: N_("Expiry does not match"),
        AlertCode.cloned_code: N_("Same pack dispensed twice (cloned code)"),
        AlertCode.repeat_decommission: N_("Decommissioned again"),
        AlertCode.inactive_pack: N_("Pack no longer active"),
        AlertCode.refused_change: N_("Impossible change refused"),
        AlertCode.recalled_pack: N_("Recalled pack scanned"),
        AlertCode.expired_pack: N_("Expired pack scanned"),
        AlertCode.stolen_pack: N_("Stolen pack scanned"),
        AlertCode.not_held_here: N_("Pack not held at this site"),
        AlertCode.receipt_discrepancy: N_("Receipt does not match the shipment"),
    },
    "severity": {
        Severity.high: N_("high"),
        Severity.medium: N_("medium"),
        Severity.low: N_("low"),
    },
    "alert_status": {
        AlertStatus.new: N_("new"),
        AlertStatus.investigating: N_("under investigation"),
        AlertStatus.closed: N_("closed"),
    },
    "role": {
        Role.manufacturer: N_("manufacturer"),
        Role.importer: N_("importer"),
        Role.distributor: N_("distributor"),
        Role.pharmacy: N_("pharmacy"),
        Role.hospital: N_("hospital"),
        Role.inspector: N_("inspector"),
        Role.admin: N_("administrator"),
    },
}


# Titles of the error pages (HTTP's phrases) and the messages of the services that a person
# meets on the console as they are, without a field to put them beside.
PAGE_MESSAGES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Conflict"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
    N_("Invalid username or password."),
    N_("Enter your username and password."),
    N_("CSRF token verification failed"),
    N_("An unexpected error occurred; it has been logged."),
)


def term(kind: str, code: object) -> str:
    """The English words for `code` of `kind` (translate them with gettext); the code itself
    when the table has no words for it, so that a new code shows rather than disappears."""
    value = getattr(code, "value", code)
    return TERMS.get(kind, {}).get(str(value), str(value))
