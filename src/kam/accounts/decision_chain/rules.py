"""The decision chain of one account: pure rules over its contacts, no ORM."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kam.accounts.models import Attitude, ContactStatus, DecisionRole

# The order the chain is shown in: who decides first, who uses last.
ROLE_ORDER = [
    DecisionRole.DECISION_MAKER,
    DecisionRole.EXPERT,
    DecisionRole.GATEKEEPER,
    DecisionRole.INFLUENCER,
    DecisionRole.PROCUREMENT,
    DecisionRole.USER,
    DecisionRole.UNKNOWN,
]

ATTITUDE_COLOUR = {
    Attitude.SUPPORTIVE: "green",
    Attitude.NEUTRAL: "yellow",
    Attitude.OPPOSED: "red",
}


@dataclass
class DecisionChain:
    groups: list[tuple[str, str, list]]  # (role value, role label, contacts)
    active_count: int
    has_decision_maker: bool
    single_threaded: bool
    departed_without_successor: list = field(default_factory=list)
    uncovered_roles: list[str] = field(default_factory=list)

    @property
    def risks(self) -> bool:
        return self.single_threaded or bool(self.departed_without_successor)


def decision_chain(contacts: Iterable, *, min_active_contacts: int) -> DecisionChain:
    """Group contacts by decision role and flag the risks the playbook names.

    Single-threaded: fewer than `min_active_contacts` active contacts, or no active
    decision maker. A key contact who left with no successor is flagged by name.
    """
    contacts = list(contacts)
    active = [c for c in contacts if c.status == ContactStatus.ACTIVE]
    by_role: dict[str, list] = {role.value: [] for role in ROLE_ORDER}
    for contact in active:
        by_role.setdefault(contact.decision_role, []).append(contact)
    groups = [(role.value, role.label, by_role[role.value]) for role in ROLE_ORDER if by_role[role.value]]
    has_decision_maker = bool(by_role[DecisionRole.DECISION_MAKER])
    departed = [
        c for c in contacts if c.status == ContactStatus.LEFT and c.is_key and c.successor_id is None
    ]
    uncovered = [
        role.label for role in ROLE_ORDER[:-1] if role != DecisionRole.USER and not by_role[role.value]
    ]
    return DecisionChain(
        groups=groups,
        active_count=len(active),
        has_decision_maker=has_decision_maker,
        single_threaded=len(active) < min_active_contacts or not has_decision_maker,
        departed_without_successor=departed,
        uncovered_roles=uncovered,
    )
