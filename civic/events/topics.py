"""Topic names, each built by one function so no topic string is typed twice.

Who may subscribe to a topic is decided by the realtime hub with the same grant check as HTTP;
an event that carries personal data must only name topics its subject or entitled officials
can subscribe to.
"""

GLOBAL_DASHBOARD = "dashboard:global"


def user(account_id: int) -> str:
    return f"user:{account_id}"


def consultation(consultation_id: int) -> str:
    return f"consultation:{consultation_id}"


def proposal(proposal_id: int) -> str:
    return f"proposal:{proposal_id}"


def agency_moderation(agency_id: int) -> str:
    return f"moderation:agency:{agency_id}"


def agency_dashboard(agency_id: int) -> str:
    return f"dashboard:agency:{agency_id}"


def parse(topic: str) -> tuple[str, int | None]:
    """Split a topic into its kind and id: "moderation:agency:3" -> ("moderation:agency", 3)."""
    head, _, tail = topic.rpartition(":")
    if head and tail.isdigit():
        return head, int(tail)
    return topic, None
