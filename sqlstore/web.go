package sqlstore

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qDeleteToken = newQuery("delete_token",
		`DELETE FROM tokens WHERE account_id = $1 AND hash = $2`)
	qContactsByIDs = newDialectQuery("contacts_by_ids",
		`SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND `+sqliteInKeys("id", 2),
		`SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND `+pgInKeys("id", 2))
	// qConversationCounts runs on the index conversations_counts alone.
	qConversationCounts = newQuery("conversation_counts",
		`SELECT inbox_id, assignee_id, team_id, COUNT(*) FROM conversations
		WHERE account_id = $1 AND status = $2 GROUP BY inbox_id, assignee_id, team_id`)
)

// DeleteToken removes the account's token with hash; NotFound if there is
// none.
func (t *tx) DeleteToken(ctx context.Context, accountID, hash string) error {
	return t.execOne(ctx, "sqlstore.DeleteToken", "token", qDeleteToken, accountID, hash)
}

// ContactsByIDs returns the account's contacts with these ids, in no
// particular order; missing ids are left out.
func (t *tx) ContactsByIDs(ctx context.Context, accountID string, ids []string) ([]*sb.Contact, error) {
	const op, what = "sqlstore.ContactsByIDs", "contacts"
	if len(ids) == 0 {
		return []*sb.Contact{}, nil
	}
	l, err := t.keyList(ids)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return list(ctx, t, op, what, scanContact, qContactsByIDs.of(t), accountID, l)
}

// ConversationCounts counts the account's conversations with status,
// grouped by inbox, assignee and team.
func (t *tx) ConversationCounts(ctx context.Context, accountID, status string) ([]sb.ConversationCount, error) {
	const op, what = "sqlstore.ConversationCounts", "conversation counts"
	rows, err := t.query(ctx, qConversationCounts, accountID, status)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	defer rows.Close()
	out := []sb.ConversationCount{}
	for rows.Next() {
		var c sb.ConversationCount
		if err := rows.Scan(&c.InboxID, &c.AssigneeID, &c.TeamID, &c.N); err != nil {
			return nil, t.classify(op, err, what)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, t.classify(op, err, what)
	}
	return out, nil
}
