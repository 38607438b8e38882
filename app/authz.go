package app

import (
	"slices"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Every role and access check of Switchboard lives in this file, so that
// "who may do what" can be read in one place (R-I3, R-I4, R-M2, R-M4, R-V1).

// requireAdmin: configuration needs the account-access permission.
func requireAdmin(op string, a Actor) error {
	if !a.IsAdmin() {
		return sb.E(op, sb.Forbidden, "admin_required", "only admins (account access) can do this")
	}
	return nil
}

// requireSelfOrAdmin: users may read themselves; admins anyone.
func requireSelfOrAdmin(op string, a Actor, userID string) error {
	if a.UserID != userID && !a.IsAdmin() {
		return sb.E(op, sb.Forbidden, "admin_required", "only admins can see or change other users")
	}
	return nil
}

// canSeeInbox is R-I4 and R-I5: whoever has access to the inbox sees all of
// its conversations.
func canSeeInbox(a Actor, inbox *sb.Inbox, teams map[string]*sb.Team) bool {
	if a.IsIntegration() {
		return false // integration tokens send messages in; they read nothing
	}
	return routing.InboxAccess(inbox, teams, a.UserID)
}

// requireInboundSender: the generic inbound entry (R-I2) takes messages
// from admins and from integration tokens — and integration tokens may do
// nothing else: the HTTP layer lets them reach that endpoint only, and
// every other check here refuses them anyway (they are no admin, see no
// inbox, are no user).
func requireInboundSender(op string, a Actor) error {
	if a.IsIntegration() {
		return nil
	}
	return requireAdmin(op, a)
}

// requireIntegrationAdmin: creating, listing and revoking integration
// tokens is account configuration.
func requireIntegrationAdmin(op string, a Actor) error { return requireAdmin(op, a) }

// requireInboxEdit is R-I3: connecting or changing a channel, or changing an
// inbox, needs the account-access permission plus access to that inbox.
func requireInboxEdit(op string, a Actor, inbox *sb.Inbox, teams map[string]*sb.Team) error {
	if err := requireAdmin(op, a); err != nil {
		return sb.E(op, sb.Forbidden, "account_access_required", "connecting or changing channels needs account access (an admin)")
	}
	if !canSeeInbox(a, inbox, teams) {
		return sb.E(op, sb.Forbidden, "inbox_access_required", "you need edit access to inbox %q: it is limited to teams you are not in", inbox.Name)
	}
	return nil
}

// requireConversation hides conversations of inboxes the actor cannot see:
// to them such a conversation does not exist (R-I4).
func requireConversation(op string, a Actor, inbox *sb.Inbox, teams map[string]*sb.Team) error {
	if !canSeeInbox(a, inbox, teams) {
		return sb.E(op, sb.NotFound, "not_found", "no such conversation")
	}
	return nil
}

// checkAssign is R-M2 and R-M4: anyone who sees an unassigned conversation
// may take it; its assignee and admins may (re)assign it to others or
// unassign it.
func checkAssign(op string, a Actor, c *sb.Conversation, targetUserID string) error {
	if c.AssigneeID == "" && c.TeamID == "" && targetUserID == a.UserID {
		return nil // R-M2
	}
	if c.AssigneeID == a.UserID || a.IsAdmin() {
		return nil // R-M4
	}
	if c.AssigneeID == "" && c.TeamID == "" {
		return sb.E(op, sb.Forbidden, "assign_self_only", "you can take an unassigned conversation yourself; only admins assign it to others")
	}
	return sb.E(op, sb.Forbidden, "not_assignee", "only the assignee or an admin can reassign this conversation")
}

// checkSetStatus is R-V1: users toggle their own status; admins and users
// with the availability permission may set others away.
func checkSetStatus(op string, a Actor, userID string, st sb.Status) error {
	if a.UserID == userID {
		return nil
	}
	if !a.IsAdmin() && !a.ManageAvailability {
		return sb.E(op, sb.Forbidden, "availability_permission_required", "only admins or users with the availability permission can change someone else's status")
	}
	if st != sb.Away {
		return sb.E(op, sb.RuleViolation, "only_set_away", "you can set other users away, not available: they come back themselves")
	}
	return nil
}

// canSeeEvent is R-I4 for the live stream: an event about an inbox reaches
// those with access to it (visible holds canSeeInbox per inbox id, as
// loaded); an event about no inbox (a user's status) reaches the whole
// account. Events of other accounts reach no one.
func canSeeEvent(a Actor, e sb.Event, visible map[string]bool) bool {
	if e.AccountID != a.AccountID || a.IsIntegration() {
		return false
	}
	if e.InboxID == "" {
		return true
	}
	return visible[e.InboxID]
}

// canBeAssigned is R-I4 for assignment targets: a user may be assigned a
// conversation only if they have access to its inbox; a team only if the
// inbox gives it access (or the inbox is open to the whole account).
func canBeAssigned(userID string, inbox *sb.Inbox, teams map[string]*sb.Team) bool {
	return canSeeInbox(Actor{UserID: userID}, inbox, teams)
}

func teamCanBeAssigned(teamID string, inbox *sb.Inbox) bool {
	return len(inbox.TeamIDs) == 0 || slices.Contains(inbox.TeamIDs, teamID)
}

// canAssignOthers is R-M4 as a yes/no for showing the Assignee menu: the
// assignee and admins may give the conversation to someone else; others
// may only take an unassigned one (R-M2).
func canAssignOthers(a Actor, c *sb.Conversation) bool {
	return c.AssigneeID == a.UserID || a.IsAdmin() // checkAssign's R-M4 branch
}

// requireWeightsAdmin: the weighted-capacity setting (R-X5) is account
// configuration, for admins only.
func requireWeightsAdmin(op string, a Actor) error { return requireAdmin(op, a) }

// requireSimulate: the dry run (R-X6) reads every user's roster and the
// account's recorded traffic, so it is for admins only.
func requireSimulate(op string, a Actor) error { return requireAdmin(op, a) }

// canSeeTicket is R-I4 for tickets: a ticket of a conversation is visible
// to whoever sees the conversation's inbox, a ticket without one to the
// whole account; admins see every ticket.
func canSeeTicket(a Actor, k *sb.Ticket, inboxes map[string]*sb.Inbox, teams map[string]*sb.Team) bool {
	if a.IsAdmin() || k.InboxID == "" {
		return true
	}
	in, ok := inboxes[k.InboxID]
	return ok && canSeeInbox(a, in, teams)
}

// requireTicket hides tickets the actor may not see: to them they do not
// exist (R-I4).
func requireTicket(op string, a Actor, k *sb.Ticket, inboxes map[string]*sb.Inbox, teams map[string]*sb.Team) error {
	if !canSeeTicket(a, k, inboxes, teams) {
		return sb.E(op, sb.NotFound, "not_found", "no such ticket")
	}
	return nil
}

// requirePipelineAdmin: pipelines, stages and the ticket limit (R-T3) are
// account configuration. Any user may create and work tickets.
func requirePipelineAdmin(op string, a Actor) error { return requireAdmin(op, a) }

// requireWebhookAdmin: outbound webhooks (R-X8) send the account's data
// elsewhere, so only admins see or change them.
func requireWebhookAdmin(op string, a Actor) error { return requireAdmin(op, a) }
