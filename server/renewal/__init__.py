"""Renewal rules of the dealership playbooks (/work/shared/DOMAIN.md) as pure functions.

No database and no clock: every function takes plain data and `today`, so the rules are easy to
read, to unit-test and to change when a dealership's playbook differs. One module per concern:
facts (inputs and vocabularies), segments, timeline, grading, packages, pricing, pitch, routing,
and engine (`assess`, which applies them all to one car).
"""

from server.renewal.engine import Assessment, VehicleCase, assess
from server.renewal.facts import (
    DEALER_CHANNEL,
    LAPSE_REASON_LABELS,
    AdvisorState,
    ClaimFacts,
    ContactChannel,
    ContactFacts,
    ContactOutcome,
    Label,
    LapseReason,
    PolicyFacts,
    VisitFacts,
)
from server.renewal.grading import (
    CUSTOMER_TYPE_LABELS,
    GRADE_LABELS,
    CustomerType,
    Grade,
    LapseRisk,
    Profile,
    customer_type,
    grade,
    lapse_risks,
)
from server.renewal.packages import (
    PACKAGES,
    VALUE_ADDS,
    Recommendation,
    recommend,
    seasonal_addons,
    seasonal_offer,
    suggest_package,
)
from server.renewal.pitch import Objection, objection_replies, talking_points
from server.renewal.pricing import PremiumEstimate, estimate_premium, ncd_from_history, next_ncd
from server.renewal.routing import LANE_LABELS, Lane, Routing, route
from server.renewal.segments import (
    SEGMENT_LABELS,
    Segment,
    dealer_renewals,
    has_recent_service,
    latest_policy,
    segment,
)
from server.renewal.timeline import (
    TIMELINE,
    Tier,
    TimelineStep,
    contact_step,
    days_to_expiry,
    next_action,
    next_contact_step,
    reminder_tier,
    unknown_vehicle_action,
)

__all__ = [
    "CUSTOMER_TYPE_LABELS",
    "DEALER_CHANNEL",
    "GRADE_LABELS",
    "LANE_LABELS",
    "LAPSE_REASON_LABELS",
    "PACKAGES",
    "SEGMENT_LABELS",
    "TIMELINE",
    "VALUE_ADDS",
    "AdvisorState",
    "Assessment",
    "ClaimFacts",
    "ContactChannel",
    "ContactFacts",
    "ContactOutcome",
    "CustomerType",
    "Grade",
    "Label",
    "Lane",
    "LapseReason",
    "LapseRisk",
    "Objection",
    "PolicyFacts",
    "PremiumEstimate",
    "Profile",
    "Recommendation",
    "Routing",
    "Segment",
    "Tier",
    "TimelineStep",
    "VehicleCase",
    "VisitFacts",
    "assess",
    "contact_step",
    "customer_type",
    "days_to_expiry",
    "dealer_renewals",
    "estimate_premium",
    "grade",
    "has_recent_service",
    "lapse_risks",
    "latest_policy",
    "ncd_from_history",
    "next_action",
    "next_contact_step",
    "next_ncd",
    "objection_replies",
    "recommend",
    "reminder_tier",
    "route",
    "seasonal_addons",
    "seasonal_offer",
    "segment",
    "suggest_package",
    "talking_points",
    "unknown_vehicle_action",
]
