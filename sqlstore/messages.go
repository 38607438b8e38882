package sqlstore

import (
	"context"
	"encoding/json"

	sb "github.com/switchboard-dev/switchboard"
)

const messageColumns = `id, account_id, conversation_id, channel_id, direction, author_user_id,
	contact_id, body, external_id, created_at`

var (
	qCreateMessage = newQuery("create_message", `INSERT INTO messages (`+messageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`)
	qMessages = newQuery("messages", `SELECT `+messageColumns+` FROM messages
		WHERE account_id = $1 AND conversation_id = $2 ORDER BY created_at, id`)
	// "external_id <> ''" lets SQLite use the partial unique index.
	qMessageByExternalID = newQuery("message_by_external_id", `SELECT `+messageColumns+`
		FROM messages WHERE channel_id = $2 AND external_id = $3 AND external_id <> '' AND account_id = $1`)
)

// CreateMessage inserts m, generating its ID if empty. Conflict if the
// channel already has a message with the same non-empty ExternalID;
// NotFound if the conversation is not in m.AccountID.
func (t *tx) CreateMessage(ctx context.Context, m *sb.Message) error {
	const op = "sqlstore.CreateMessage"
	id, err := newID(m.ID)
	if err != nil {
		return t.classify(op, err, "message")
	}
	if _, err := t.exec(ctx, qCreateMessage, id, m.AccountID, m.ConversationID, m.ChannelID,
		m.Direction, m.AuthorUserID, m.ContactID, m.Body, m.ExternalID, micros(m.CreatedAt)); err != nil {
		return t.classifyConflict(op, err, "message", "message with this external id")
	}
	m.ID = id
	return nil
}

// Messages returns the conversation's thread, oldest first; empty if the
// conversation has none or is not in the account.
func (t *tx) Messages(ctx context.Context, accountID, conversationID string) ([]*sb.Message, error) {
	return list(ctx, t, "sqlstore.Messages", "messages", scanMessage, qMessages, accountID, conversationID)
}

// MessageByExternalID finds the account's message by its channel's
// external id; NotFound otherwise (always for an empty external id).
func (t *tx) MessageByExternalID(ctx context.Context, accountID, channelID, externalID string) (*sb.Message, error) {
	const op, what = "sqlstore.MessageByExternalID", "message with this external id"
	if externalID == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanMessage, qMessageByExternalID, accountID, channelID, externalID)
}

func scanMessage(r scanner) (*sb.Message, error) {
	var m sb.Message
	var created int64
	if err := r.Scan(&m.ID, &m.AccountID, &m.ConversationID, &m.ChannelID, &m.Direction,
		&m.AuthorUserID, &m.ContactID, &m.Body, &m.ExternalID, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

const decisionColumns = `id, account_id, conversation_id, trigger, mode, strategy, candidates,
	outcome, assignee_id, reason, tie_break, notify_owner, used_fallback, actor_user_id, created_at`

var (
	qCreateDecision = newQuery("create_decision", `INSERT INTO decisions (`+decisionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`)
	qDecisions = newQuery("decisions", `SELECT `+decisionColumns+` FROM decisions
		WHERE account_id = $1 AND conversation_id = $2 ORDER BY created_at, id`)
)

// CreateDecision inserts d, generating its ID if empty. NotFound if the
// conversation is not in d.AccountID.
func (t *tx) CreateDecision(ctx context.Context, d *sb.Decision) error {
	const op, what = "sqlstore.CreateDecision", "decision"
	id, err := newID(d.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	cands, err := jsonText(d.Candidates)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateDecision, id, d.AccountID, d.ConversationID, d.Trigger, d.Mode,
		d.Strategy, cands, d.Outcome, d.AssigneeID, d.Reason, d.TieBreak, d.NotifyOwner,
		d.UsedFallback, d.ActorUserID, micros(d.CreatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	d.ID = id
	return nil
}

// Decisions returns the conversation's routing records, oldest first;
// empty if there are none or the conversation is not in the account.
func (t *tx) Decisions(ctx context.Context, accountID, conversationID string) ([]*sb.Decision, error) {
	return list(ctx, t, "sqlstore.Decisions", "decisions", scanDecision, qDecisions, accountID, conversationID)
}

func scanDecision(r scanner) (*sb.Decision, error) {
	var d sb.Decision
	var cands string
	var created int64
	if err := r.Scan(&d.ID, &d.AccountID, &d.ConversationID, &d.Trigger, &d.Mode, &d.Strategy,
		&cands, &d.Outcome, &d.AssigneeID, &d.Reason, &d.TieBreak, &d.NotifyOwner,
		&d.UsedFallback, &d.ActorUserID, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cands), &d.Candidates); err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(created)
	return &d, nil
}
