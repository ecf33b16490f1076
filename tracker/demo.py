"""Demo data for development and the README's walk-through. Never loaded in production."""

from __future__ import annotations

from sqlalchemy import select

from tracker.admin import operations
from tracker.models import Agency, Role, User
from tracker.extensions import db

DEMO_PASSWORD = "demo-password-2026"

DEMO_AGENCIES = [
    ("Police – Protecting Vulnerable People unit", "POL"),
    ("Council – Safer Communities domestic abuse service", "KSC"),
    ("Specialist domestic abuse service", "SDAS"),
    ("Independent Domestic Violence Advisor (IDVA) service", "IDVA"),
    ("Multi-agency safeguarding hub (children's services)", "MASH"),
    ("Health – NHS safeguarding team", "NHS"),
    ("Housing – council housing options", "HOU"),
    ("Probation service", "PROB"),
]

# email, display name, role, agency code, SPOC
DEMO_USERS = [
    ("admin@example.org", "Demo Administrator", Role.ADMIN, "POL", False),
    ("chair@example.org", "Demo Chair", Role.CHAIR, "POL", False),
    ("manager@example.org", "Demo Manager", Role.MANAGER, "POL", False),
    ("idva@example.org", "Demo IDVA Officer", Role.PARTNER, "IDVA", True),
    ("housing@example.org", "Demo Housing Officer", Role.PARTNER, "HOU", False),
]


def seed_demo() -> bool:
    """Create the demo agencies and accounts. Returns False if they already exist."""
    if db.session.scalar(select(User.id).where(User.email == DEMO_USERS[0][0])) is not None:
        return False
    agencies = {}
    for name, code in DEMO_AGENCIES:
        agencies[code] = db.session.scalar(select(Agency).where(Agency.code == code)) or operations.create_agency(
            name=name, code=code
        )
    for email, name, role, code, spoc in DEMO_USERS:
        user = operations.create_user(
            email=email, display_name=name, role=role.value, agency=agencies[code], is_spoc=spoc,
            temporary_password=DEMO_PASSWORD,
        )
        user.must_change_password = False  # demo accounts sign straight in
    db.session.flush()
    return True
