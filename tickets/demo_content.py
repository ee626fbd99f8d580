"""Realistic payments-support conversations for the demo desk (seed_demo)."""

SCENARIOS = [
    {
        "queue": "payouts",
        "tags": ["payouts", "delayed"],
        "subject": "Payout {po} has not arrived",
        "description": (
            "Hi, our payout {po} for {amount} was expected on {day} but it has not reached our "
            "bank account yet. Our finance team needs it to pay suppliers. Can you check?"
        ),
        "replies": [
            "Thanks for reaching out. I can see payout {po} was sent on {day} and the bank has "
            "acknowledged it. Banks can take up to 2 business days to credit; could you share the "
            "last 4 digits of the receiving account so I can confirm the destination?",
            "The bank trace reference for {po} is FED{ref}. If it has not arrived by tomorrow, "
            "your bank can use that reference to locate the funds.",
        ],
        "followups": ["The account ends in {last4}. Still nothing on our side.", "Got it, thanks!"],
    },
    {
        "queue": "disputes",
        "tags": ["disputes", "chargeback"],
        "subject": "Chargeback {dp} — evidence deadline",
        "description": (
            "We received dispute {dp} (reason: product_not_received) for {amount}. The evidence "
            "is due in 3 days. We have tracking showing delivery — how do we submit it?"
        ),
        "replies": [
            "You can submit evidence from the dispute page or via the API "
            "(POST /v1/disputes/{dp}). Include the carrier tracking number and the signed proof "
            "of delivery; I have added a note so the evidence window is tracked on our side.",
            "Your evidence for {dp} was submitted successfully. The card network usually decides "
            "within 60-75 days.",
        ],
        "followups": ["Uploaded the tracking PDF, can you confirm it went through?"],
    },
    {
        "queue": "api-integrations",
        "tags": ["api", "errors"],
        "subject": "API returning 500 on /v1/charges (request {req})",
        "description": (
            "Since 14:05 UTC about 3% of our POST /v1/charges calls fail with HTTP 500. Example "
            "request id: {req}. Idempotency keys are set. Is there an incident?"
        ),
        "replies": [
            "Thanks for the request id. I can see {req} failed with an internal error on our side. "
            "I have escalated to our payments engineering team; update within the hour.",
            "Engineering deployed a fix at 16:20 UTC; error rates are back to normal. Requests "
            "retried with the same idempotency key will not create duplicate charges.",
        ],
        "followups": ["We are still seeing a few failures, e.g. {req2}."],
    },
    {
        "queue": "payments",
        "tags": ["cards", "declines"],
        "subject": "High decline rate on Visa cards since yesterday",
        "description": (
            "Our decline rate for Visa jumped from 4% to 18% since yesterday. Most declines say "
            "do_not_honor. Did something change with 3-D Secure?"
        ),
        "replies": [
            "I looked at your last 500 Visa attempts: most declines come from two issuing banks "
            "and carry the issuer code do_not_honor, not a 3-D Secure failure. Enabling automatic "
            "retries with network tokens usually recovers part of these.",
        ],
        "followups": ["Thanks — which setting enables network tokens?"],
    },
    {
        "queue": "payments",
        "tags": ["refunds"],
        "subject": "Refund {re} stuck in pending",
        "description": (
            "Refund {re} for {amount} has been pending for 6 days. The customer is asking where "
            "their money is."
        ),
        "replies": [
            "Refund {re} was accepted by the card network; the issuing bank shows it "
            "as "
            "processing. Refunds can take 5-10 business days to appear. The ARN is {ref}, which "
            "the cardholder can give their bank.",
        ],
        "followups": ["Customer says the bank can't find it with that ARN."],
    },
    {
        "queue": "payouts",
        "tags": ["payouts", "verification"],
        "subject": "Payouts paused — verification required",
        "description": (
            "We got an e-mail that payouts are paused pending verification. We uploaded the "
            "documents two days ago. When will payouts resume?"
        ),
        "replies": [
            "Your documents are in review; I have asked the verification team to prioritise "
            "them. Payouts resume automatically once verification completes.",
        ],
        "followups": ["Any update? We have payroll on Friday."],
    },
    {
        "queue": "api-integrations",
        "tags": ["webhooks"],
        "subject": "Webhook signature verification failing",
        "description": (
            "Our endpoint rejects your webhooks: the signature does not match. We use the secret "
            "from the dashboard and the raw body. Event id {evt}."
        ),
        "replies": [
            "The most common cause is a framework re-serialising the JSON body before the "
            "signature check. Could you log the raw bytes you verify for {evt}?",
        ],
        "followups": ["You were right, our middleware parsed the body. Fixed, thanks."],
    },
]

INTERNAL_NOTES = [
    "Checked the ledger: funds left our settlement account on time.",
    "Customer is on the enterprise plan — keep the account manager in the loop.",
    "Similar reports from two other merchants this morning; possible issuer-side issue.",
    "Asked engineering in #payments-oncall, waiting for a reply.",
]

ORGANISATIONS = [
    ("Northwind Coffee Roasters", "acct_1NwCoffee", "standard"),
    ("Globex Marketplace", "acct_1Globex", "enterprise"),
    ("Initech Subscriptions", "acct_1Initech", "premium"),
    ("Umbrella Travel", "acct_1Umbrella", "enterprise"),
    ("Hooli Checkout", "acct_1Hooli", "premium"),
    ("Stark Gadgets", "acct_1Stark", "standard"),
    ("Wayne Foundation Donations", "acct_1Wayne", "standard"),
    ("Acme Tickets", "acct_1Acme", "premium"),
]

FIRST_NAMES = ["Ana", "Ben", "Chloé", "Dev", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Júlia"]
LAST_NAMES = ["Silva", "Okafor", "Nguyen", "Schmidt", "Haddad", "Kowalski", "Tanaka", "Rossi"]
