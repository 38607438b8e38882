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
	conversationsMaxLimit     = sb.MaxConversationsLimit
)

const conversationColumns = `id, account_id, inbox_id, channel_id, channel_kind, contact_id,
	status, assignee_id, team_id, ticket_id, waiting, subject, preview, created_at,
	last_activity_at, closed_at`

// conversationUpdates are the columns UpdateConversation writes, and
// their SQL types, in the order of conversationUpdateArgs.
var conversationUpdates = []struct{ col, typ string }{
	{"status", "text"}, {"assignee_id", "text"}, {"team_id", "text"}, {"ticket_id", "text"},
	{"waiting", "boolean"}, {"subject", "text"}, {"preview", "text"},
	{"last_activity_at", "bigint"}, {"closed_at", "bigint"},
}

// updateConversationSQL writes UPDATE conversations SET col = value(i,
// col), … for conversationUpdates, then tail.
func updateConversationSQL(value func(i int, col string) string, tail string) string {
	sets := make([]string, len(conversationUpdates))
	for i, u := range conversationUpdates {
		sets[i] = u.col + " = " + value(i, u.col)
	}
	return `UPDATE conversations SET ` + strings.Join(sets, ", ") + tail
}

// conversationUpdateColumns returns the columns of conversationUpdates,
// and typeNames their SQL types.
func conversationUpdateColumns() (names, typeNames []string) {
	for _, u := range conversationUpdates {
		names, typeNames = append(names, u.col), append(typeNames, u.typ)
	}
	return names, typeNames
}

// conversationUpdateArgs appends c's parameters of qUpdateConversation:
// account, id, then conversationUpdates.
func conversationUpdateArgs(args []any, c *sb.Conversation) []any {
	return append(args, c.AccountID, c.ID, c.Status, c.AssigneeID, c.TeamID, c.TicketID, c.Waiting,
		c.Subject, c.Preview, micros(c.LastActivityAt), micros(c.ClosedAt))
}

var (
	mCreateConversation = newInsert("create_conversation", "conversations", conversationColumns, "")
	qUpdateConversation = newQuery("update_conversation", updateConversationSQL(
		func(i int, _ string) string { return "$" + strconv.Itoa(i+3) },
		` WHERE account_id = $1 AND id = $2`))
	// mUpdateConversation updates many rows from a VALUES list v of
	// conversationUpdateArgs.
	mUpdateConversation = newUpdateConversations()
	qConversation       = newQuery("conversation",
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
	qConversationsByIDs = newDialectQuery("conversations_by_ids",
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = $1 AND `+sqliteInKeys("id", 2),
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = $1 AND `+pgInKeys("id", 2))
	// qLatestConversations is qLatestConversation for many (contact,
	// channel) keys: on SQLite a correlated subquery per key, as
	// qLatestConversation on the index conversations_contact_channel, gives
	// the ids to fetch; PostgreSQL runs it per key with LATERAL.
	qLatestConversations = newDialectQuery("latest_conversations",
		`SELECT `+conversationColumns+` FROM conversations WHERE account_id = $1 AND id IN (
			SELECT (SELECT id FROM conversations
				WHERE account_id = $1 AND contact_id = k.value->>0 AND channel_id = k.value->>1
				ORDER BY created_at DESC, id DESC LIMIT 1)
			FROM json_each($2) AS k)`,
		`SELECT l.* FROM unnest($2::text[], $3::text[]) AS k (contact_id, channel_id)
		CROSS JOIN LATERAL (SELECT `+conversationColumns+` FROM conversations
			WHERE account_id = $1 AND contact_id = k.contact_id AND channel_id = k.channel_id
			ORDER BY created_at DESC, id DESC LIMIT 1) AS l`)
)

func newUpdateConversations() *multiQuery {
	cols, types := conversationUpdateColumns()
	return newMulti(qUpdateConversation,
		`WITH v (account_id, id, `+strings.Join(cols, ", ")+`) AS (VALUES `,
		`) `+updateConversationSQL(func(_ int, col string) string { return "v." + col },
			` FROM v WHERE conversations.account_id = v.account_id AND conversations.id = v.id`),
		append([]string{"text", "text"}, types...))
}

// CreateConversation inserts c, generating its ID if empty. NotFound if
// the account or the contact does not exist in the account; Conflict if
// the id exists.
func (t *tx) CreateConversation(ctx context.Context, c *sb.Conversation) error {
	return t.createConversations(ctx, "sqlstore.CreateConversation", []*sb.Conversation{c})
}

// CreateConversations inserts cs as CreateConversation does, in one
// statement per chunk. Nothing is written if a row fails.
func (t *tx) CreateConversations(ctx context.Context, cs []*sb.Conversation) error {
	return t.createConversations(ctx, "sqlstore.CreateConversations", cs)
}

func (t *tx) createConversations(ctx context.Context, op string, cs []*sb.Conversation) error {
	w, err := t.conversationsWrite(op, cs)
	if err != nil {
		return err
	}
	return t.run(ctx, w)
}

func (t *tx) conversationsWrite(op string, cs []*sb.Conversation) (*write, error) {
	const what = "conversation"
	ids, err := newIDs(len(cs), func(i int) string { return cs[i].ID })
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return &write{m: mCreateConversation, n: len(cs),
		row: func(args []any, i int) ([]any, error) {
			c := cs[i]
			return append(args, ids[i], c.AccountID, c.InboxID, c.ChannelID, string(c.ChannelKind), c.ContactID,
				c.Status, c.AssigneeID, c.TeamID, c.TicketID, c.Waiting, c.Subject, c.Preview,
				micros(c.CreatedAt), micros(c.LastActivityAt), micros(c.ClosedAt)), nil
		},
		fail: func(err error) error { return t.classify(op, err, what) },
		done: func(int64, []int64) error {
			for i, c := range cs {
				c.ID = ids[i]
			}
			return nil
		}}, nil
}

// UpdateConversation writes status, assignee, team, ticket, waiting,
// subject, preview, last activity and closed-at. NotFound if the
// conversation is not in c.AccountID.
func (t *tx) UpdateConversation(ctx context.Context, c *sb.Conversation) error {
	return t.updateConversations(ctx, "sqlstore.UpdateConversation", []*sb.Conversation{c})
}

// UpdateConversations writes the fields UpdateConversation writes for each
// of cs, in one statement per chunk; a conversation given twice gets its
// last version. NotFound if one is not in its AccountID; if others were
// written, the transaction is doomed, so that the call never commits
// half-done.
func (t *tx) UpdateConversations(ctx context.Context, cs []*sb.Conversation) error {
	return t.updateConversations(ctx, "sqlstore.UpdateConversations", cs)
}

func (t *tx) updateConversations(ctx context.Context, op string, cs []*sb.Conversation) error {
	const what = "conversation"
	if len(cs) == 0 {
		return nil
	}
	cs = lastOfEach(cs, func(c *sb.Conversation) [2]string { return [2]string{c.AccountID, c.ID} })
	n, err := t.execRows(ctx, mUpdateConversation, len(cs), func(args []any, i int) ([]any, error) {
		return conversationUpdateArgs(args, cs[i]), nil
	})
	if err != nil {
		return t.classify(op, err, what)
	}
	return t.short(op, what, n, len(cs))
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

// LatestConversations returns, for each (contact, channel) key, the
// contact's most recently created conversation on the channel in the
// account, as LatestConversation does; keys without one are left out. In
// no particular order, each conversation once.
func (t *tx) LatestConversations(ctx context.Context, accountID string, keys []sb.ContactChannel) ([]*sb.Conversation, error) {
	const op, what = "sqlstore.LatestConversations", "conversations"
	if len(keys) == 0 {
		return []*sb.Conversation{}, nil
	}
	pairs, err := t.pairList(len(keys), func(i int) (string, string) { return keys[i].ContactID, keys[i].ChannelID })
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	cs, err := list(ctx, t, op, what, scanConversation, qLatestConversations.of(t), append([]any{accountID}, pairs...)...)
	if err != nil {
		return nil, err
	}
	return uniqueByID(cs, convID), nil
}

// ConversationsByIDs returns the account's conversations with these ids,
// in no particular order; missing ids are left out.
func (t *tx) ConversationsByIDs(ctx context.Context, accountID string, ids []string) ([]*sb.Conversation, error) {
	const op, what = "sqlstore.ConversationsByIDs", "conversations"
	if len(ids) == 0 {
		return []*sb.Conversation{}, nil
	}
	l, err := t.keyList(ids)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return list(ctx, t, op, what, scanConversation, qConversationsByIDs.of(t), accountID, l)
}

func convID(c *sb.Conversation) string { return c.ID }

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

	rows, err := t.querySQL(ctx, b.String(), w.args...)
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
