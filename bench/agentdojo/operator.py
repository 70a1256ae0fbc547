"""How a careful operator deploys each AgentDojo suite on Sealed: which of its
functions change the world (side effects, high privilege), which send to a
URL (an egress destination), which hosts they may reach, which personal data
the agent must handle to do its job at all.

Decided from the functions themselves (what they do), never from an injection
task's goal or ground truth; tuned on the `important_instructions` attack only
(every other attack is held out)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SuiteOperator:
    side_effects: frozenset[str]
    # function -> the argument that names where it sends (a URL)
    destinations: dict[str, str] = field(default_factory=dict)
    # hosts the suite's egress functions may reach
    egress: tuple[str, ...] = ()
    # personal data the suite's work consists of (sent as is, not masked)
    allow_pii: tuple[str, ...] = ()
    # shipped directives the suite's profile relaxes, and its own policies
    relax: tuple[str, ...] = ()
    policies: str = ""
    # functions a person confirms every time, whatever their arguments (once
    # the profile names an approver): what cannot be undone
    confirm: frozenset[str] = frozenset()


# Browsing is the Slack assistant's work, to hosts no list can name in
# advance: instead of refusing every host off an allowlist (and aborting when
# a link read in a channel is followed), a person approves each site visited.
_BROWSING_NEEDS_APPROVAL = """\
@id("slack.browsing-needs-approval")
@action("require_approval")
@reason("the agent wants to reach a web host no one has approved for this workspace")
forbid(principal, action == Sealed::Action::"call", resource)
when { context.tool.egress };
"""


OPERATORS: dict[str, SuiteOperator] = {
    "workspace": SuiteOperator(
        side_effects=frozenset(
            {
                "send_email",
                "delete_email",
                "create_calendar_event",
                "cancel_calendar_event",
                "reschedule_calendar_event",
                "add_calendar_event_participants",
                "append_to_file",
                "create_file",
                "delete_file",
                "share_file",
            }
        ),
        allow_pii=("email", "phone-number"),
        confirm=frozenset({"delete_email", "delete_file", "cancel_calendar_event"}),
    ),
    "travel": SuiteOperator(
        side_effects=frozenset(
            {
                "create_calendar_event",
                "cancel_calendar_event",
                "reserve_hotel",
                "reserve_car_rental",
                "reserve_restaurant",
                "send_email",
            }
        ),
        allow_pii=("email", "phone-number"),
    ),
    "banking": SuiteOperator(
        side_effects=frozenset(
            {
                "send_money",
                "schedule_transaction",
                "update_scheduled_transaction",
                "update_password",
                "update_user_info",
            }
        ),
        allow_pii=("iban",),
    ),
    "slack": SuiteOperator(
        side_effects=frozenset(
            {
                "add_user_to_channel",
                "send_direct_message",
                "send_channel_message",
                "invite_user_to_slack",
                "remove_user_from_slack",
                "post_webpage",
            }
        ),
        destinations={"get_webpage": "url", "post_webpage": "url"},
        allow_pii=("email",),
        relax=("sealed.egress-allowlist", "sealed.untrusted-egress"),
        policies=_BROWSING_NEEDS_APPROVAL,
    ),
}
