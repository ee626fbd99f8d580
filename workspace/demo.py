"""Demo macros for seed_demo: payments-support canned replies."""

from .models import Macro

MACROS = {
    "Payout delayed: checking with the bank": (
        "Hi {{ requester.first_name }},\n\nThanks for reaching out about the payout. I have "
        "asked our banking partner for the trace of this transfer and will update you on "
        "ticket #{{ ticket.id }} as soon as I hear back, within one business day.\n\n"
        "Best,\n{{ agent.name }}"
    ),
    "Dispute: evidence checklist": (
        "Hi {{ requester.first_name }},\n\nTo counter this dispute please send, before the "
        "response deadline: proof of delivery or service, the customer's communication, and "
        "your refund policy as shown at checkout.\n\nBest,\n{{ agent.name }}"
    ),
    "API error: need the request id": (
        "Hi {{ requester.first_name }},\n\nCould you share the `request-id` header of a "
        "failing call and the time it happened (with time zone)? That lets us find it in our "
        "logs straight away.\n\nBest,\n{{ agent.name }}"
    ),
    "Card declined: issuer decision": (
        "Hi {{ requester.first_name }},\n\nThis decline came from the card issuer "
        "(`do_not_honor`), not from us. The cardholder should contact their bank, or try "
        "another card.\n\nBest,\n{{ agent.name }}"
    ),
    "Solved: anything else?": (
        "Hi {{ requester.first_name }},\n\nI'm marking this as solved. If anything else comes "
        "up, just reply to this message and the ticket reopens.\n\nBest,\n{{ agent.name }}"
    ),
}


def seed_macros() -> None:
    for name, body in MACROS.items():
        Macro.objects.update_or_create(name=name, defaults={"body": body, "active": True})
