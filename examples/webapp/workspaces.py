"""The demo product's own data: workspaces, their members and dashboards.

In a real SaaS this is your database. Nudge never sees it: the backend reports the
numbers Nudge needs (seats, dashboards) and the plan, and nothing else. Kept in memory,
so a restart of the demo starts every browser on a fresh workspace.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

# The people a demo workspace invites, in order; the first is its owner.
PEOPLE = (
    ("ana", "Ana Alves"),
    ("bo", "Bo Berg"),
    ("cy", "Cy Chen"),
    ("dee", "Dee Diaz"),
    ("eli", "Eli Eriksen"),
    ("fay", "Fay Fischer"),
    ("gus", "Gus Greco"),
    ("hana", "Hana Hori"),
)
DASHBOARD_NAMES = (
    "Weekly active users",
    "Signup funnel",
    "Revenue by plan",
    "Churn cohorts",
    "Feature adoption",
    "Support load",
)


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    role: str  # "owner" or "member"

    @property
    def email(self) -> str:
        return f"{self.user_id}@acme.example"


@dataclass
class Workspace:
    account_id: str
    name: str
    plan: str
    members: list[Member] = field(default_factory=list)
    dashboards: list[str] = field(default_factory=list)

    def member(self, user_id: str) -> Member | None:
        return next((m for m in self.members if m.user_id == user_id), None)

    def next_person(self) -> Member | None:
        """Who the next invitation goes to; None once the demo has run out of people."""
        if len(self.members) >= len(PEOPLE):
            return None
        user_id, name = PEOPLE[len(self.members)]
        return Member(user_id=user_id, name=name, role="member")

    def next_dashboard(self) -> str:
        n = len(self.dashboards)
        return DASHBOARD_NAMES[n] if n < len(DASHBOARD_NAMES) else f"Dashboard {n + 1}"


class Workspaces:
    """Every workspace of this demo process, by account id (the id Nudge knows it by)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Workspace] = {}

    def create(self, *, plan: str) -> Workspace:
        # A fresh id per workspace: Nudge keeps usage and dismissals per account id.
        account_id = f"acme-{secrets.token_hex(4)}"
        owner_id, owner_name = PEOPLE[0]
        workspace = Workspace(
            account_id=account_id,
            name="Acme Analytics",
            plan=plan,
            members=[Member(user_id=owner_id, name=owner_name, role="owner")],
        )
        self._by_id[account_id] = workspace
        return workspace

    def get(self, account_id: str) -> Workspace | None:
        return self._by_id.get(account_id)
