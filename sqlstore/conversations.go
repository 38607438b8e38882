package sqlstore

import (
	"context"
	"strconv"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Page sizes of conversation lists.
const (
	conversationsDefaultLimit = 50
	conversationsMaxLimit     = 200
)

const conversationColumns = `id, account_id, inbox_id, channel_id, channel_kind, contact_id,
	status, assignee_id, team_id, ticket_id, waiting, subject, preview, created_at,
	last_activity_at, closed_at`

var (
	qCreateConversation = newQuery("create_conversation", `INSERT INTO conversations (`+conversationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`)
	qUpdateConversation = newQuery("update_conversation", `UPDATE conversations SET status = $3,
		assignee_id = $4, team_id = $5, ticket_id = $6, waiting = $7, subject = $8,
		preview = $9, last_activity_at = $10, closed_at = $11
		WHERE account_id = $1 AND id = $2`)
	qConversation = newQuery("conversation",
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = $1 AND id = $2`)
	qLatestConversation = newQuery("latest_conversation", `SELECT `+conversationColumns+`
		FROM conversations WHERE account_id = $1 AND contact_id = $2 AND channel_id = $3
		ORDER BY created_at DESC, id DESC LIMIT 1`)
	// "waiting = TRUE" is spelled as in the partial index
	// conversations_waiting, so that SQLite uses it.
	qWaitingConversations = newQuery("waiting_conversations", `SELECT `+conversationColumns+`
		FROM conversations WHERE account_id = $1 AND waiting = TRUE AND status = 'open'
		ORDER BY created_at, id LIMIT $2`)
	// qConversations is completed by Conversations with the filter's
	// conditions, then qConversationsOrder.
	qConversations = newQuery("conversations",
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = $1`)
	qConversationsOrder = ` ORDER BY last_activity_at DESC, id DESC LIMIT `
)

// CreateConversation inserts c, generating its ID if empty. NotFound if
// the account or the contact does not exist in the account; Conflict if
// the id exists.
func (t *tx) CreateConversation(ctx context.Context, c *sb.Conversation) error {
	const op, what = "sqlstore.CreateConversation", "conversation"
	id, err := newID(c.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateConversation, id, c.AccountID, c.InboxID, c.ChannelID,
		string(c.ChannelKind), c.ContactID, c.Status, c.AssigneeID, c.TeamID, c.TicketID,
		c.Waiting, c.Subject, c.Preview, micros(c.CreatedAt), micros(c.LastActivityAt),
		micros(c.ClosedAt)); err != nil {
		return t.classify(op, err, what)
	}
	c.ID = id
	return nil
}

// UpdateConversation writes status, assignee, team, ticket, waiting,
// subject, preview, last activity and closed-at. NotFound if the
// conversation is not in c.AccountID.
func (t *tx) UpdateConversation(ctx context.Context, c *sb.Conversation) error {
	return t.execOne(ctx, "sqlstore.UpdateConversation", "conversation", qUpdateConversation,
		c.AccountID, c.ID, c.Status, c.AssigneeID, c.TeamID, c.TicketID, c.Waiting, c.Subject,
		c.Preview, micros(c.LastActivityAt), micros(c.ClosedAt))
}

// Conversation returns the account's conversation with id; NotFound
// otherwise.
func (t *tx) Conversation(ctx context.Context, accountID, id string) (*sb.Conversation, error) {
	return one(ctx, t, "sqlstore.Conversation", "conversation", scanConversation, qConversation, accountID, id)
}

// LatestConversation returns the contact's most recently created
// conversation on the channel, open or closed (R-A11, R-X4); NotFound if
// there is none.
func (t *tx) LatestConversation(ctx context.Context, accountID, contactID, channelID string) (*sb.Conversation, error) {
	return one(ctx, t, "sqlstore.LatestConversation", "conversation", scanConversation,
		qLatestConversation, accountID, contactID, channelID)
}

// WaitingConversations returns the account's open conversations with
// Waiting set, oldest first (R-X2). limit <= 0 means 50; at most 200.
func (t *tx) WaitingConversations(ctx context.Context, accountID string, n int) ([]*sb.Conversation, error) {
	return list(ctx, t, "sqlstore.WaitingConversations", "conversations", scanConversation,
		qWaitingConversations, accountID, limit(n, conversationsDefaultLimit, conversationsMaxLimit))
}

// Conversations lists the conversations f selects, newest activity first
// (ties by id, descending), after the cursor (f.AfterActivity, f.AfterID)
// if either is set. f.Limit <= 0 means 50; at most 200 are returned. A
// non-nil empty f.InboxIDs selects nothing.
func (t *tx) Conversations(ctx context.Context, f sb.ConversationFilter) ([]*sb.Conversation, error) {
	const op, what = "sqlstore.Conversations", "conversations"
	if f.InboxIDs != nil && len(f.InboxIDs) == 0 {
		return []*sb.Conversation{}, nil
	}
	w := where{args: []any{f.AccountID}}
	var b strings.Builder
	b.WriteString(qConversations.sql)
	if f.Status != "" {
		b.WriteString(" AND status = " + w.arg(f.Status))
	}
	if f.Unassigned {
		b.WriteString(" AND assignee_id = '' AND team_id = ''")
	}
	if f.AssigneeID != "" {
		b.WriteString(" AND assignee_id = " + w.arg(f.AssigneeID))
	}
	if f.InboxID != "" {
		b.WriteString(" AND inbox_id = " + w.arg(f.InboxID))
	}
	if f.InboxIDs != nil {
		b.WriteString(" AND inbox_id IN (" + w.list(f.InboxIDs) + ")")
	}
	if f.TeamID != "" {
		b.WriteString(" AND (team_id = " + w.arg(f.TeamID))
		if len(f.TeamMemberIDs) > 0 {
			b.WriteString(" OR assignee_id IN (" + w.list(f.TeamMemberIDs) + ")")
		}
		b.WriteString(")")
	}
	if !f.AfterActivity.IsZero() || f.AfterID != "" {
		b.WriteString(" AND (last_activity_at, id) < (" + w.arg(micros(f.AfterActivity)) + ", " + w.arg(f.AfterID) + ")")
	}
	b.WriteString(qConversationsOrder + w.arg(limit(f.Limit, conversationsDefaultLimit, conversationsMaxLimit)))

	rows, err := t.tx.QueryContext(ctx, b.String(), w.args...)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return collect(t, op, what, rows, scanConversation)
}

// where collects the arguments of a query built at run time and hands out
// their placeholders.
type where struct{ args []any }

// arg adds v and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// list adds vs and returns their comma-separated placeholders.
func (w *where) list(vs []string) string {
	ph := make([]string, len(vs))
	for i, v := range vs {
		ph[i] = w.arg(v)
	}
	return strings.Join(ph, ", ")
}

func scanConversation(r scanner) (*sb.Conversation, error) {
	var c sb.Conversation
	var kind string
	var created, activity, closed int64
	if err := r.Scan(&c.ID, &c.AccountID, &c.InboxID, &c.ChannelID, &kind, &c.ContactID,
		&c.Status, &c.AssigneeID, &c.TeamID, &c.TicketID, &c.Waiting, &c.Subject, &c.Preview,
		&created, &activity, &closed); err != nil {
		return nil, err
	}
	c.ChannelKind = sb.ChannelKind(kind)
	c.CreatedAt, c.LastActivityAt, c.ClosedAt = fromMicros(created), fromMicros(activity), fromMicros(closed)
	return &c, nil
}
