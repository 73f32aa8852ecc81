"""The kinds of organisation and the roles their people and devices work in. Plain enums, apart
from the tables, so that the command line can offer them without loading the ORM."""

from __future__ import annotations

import enum


class OrganizationKind(enum.StrEnum):
    manufacturer = "manufacturer"
    importer = "importer"
    distributor = "distributor"
    pharmacy = "pharmacy"
    hospital = "hospital"
    regulator = "regulator"


class Role(enum.StrEnum):
    manufacturer = "manufacturer"
    importer = "importer"
    distributor = "distributor"
    pharmacy = "pharmacy"
    hospital = "hospital"
    inspector = "inspector"
    admin = "admin"


# The role a member of each kind of organisation works in; the regulator's staff are inspectors
# or admins.
ROLES_BY_KIND: dict[OrganizationKind, frozenset[Role]] = {
    OrganizationKind.manufacturer: frozenset({Role.manufacturer}),
    OrganizationKind.importer: frozenset({Role.importer}),
    OrganizationKind.distributor: frozenset({Role.distributor}),
    OrganizationKind.pharmacy: frozenset({Role.pharmacy}),
    OrganizationKind.hospital: frozenset({Role.hospital}),
    OrganizationKind.regulator: frozenset({Role.inspector, Role.admin}),
}

# The role a scanner device acts in, from the kind of organisation that owns its facility.
DEVICE_ROLE_BY_KIND: dict[OrganizationKind, Role] = {
    OrganizationKind.manufacturer: Role.manufacturer,
    OrganizationKind.importer: Role.importer,
    OrganizationKind.distributor: Role.distributor,
    OrganizationKind.pharmacy: Role.pharmacy,
    OrganizationKind.hospital: Role.hospital,
    OrganizationKind.regulator: Role.inspector,
}
