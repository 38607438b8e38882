package sqlstore

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

const messageColumns = `id, account_id, conversation_id, channel_id, direction, author_user_id,
	contact_id, body, external_id, created_at, meta, delivery, delivery_detail`

var (
	mCreateMessage = newInsert("create_message", "messages", messageColumns, "")
	qMessage       = newQuery("message", `SELECT `+messageColumns+` FROM messages WHERE id = $2 AND account_id = $1`)
	mSetDelivery   = newQuery("set_message_delivery", `UPDATE messages SET delivery = $3, delivery_detail = $4,
		external_id = CASE WHEN $5 = '' THEN external_id ELSE $5 END WHERE id = $2 AND account_id = $1`)
	qMessages = newQuery("messages", `SELECT `+messageColumns+` FROM messages
		WHERE account_id = $1 AND conversation_id = $2 ORDER BY created_at, id`)
	// "external_id <> ''" lets SQLite use the partial unique index.
	qMessageByExternalID = newQuery("message_by_external_id", `SELECT `+messageColumns+`
		FROM messages WHERE channel_id = $2 AND external_id = $3 AND external_id <> '' AND account_id = $1`)
	qMessagesByExternalIDs = newDialectQuery("messages_by_external_ids",
		`SELECT `+messageColumns+` FROM messages WHERE (channel_id, external_id) IN
			(SELECT value->>0, value->>1 FROM json_each($2)) AND external_id <> '' AND account_id = $1`,
		`SELECT `+messageColumns+` FROM messages WHERE (channel_id, external_id) IN
			(SELECT * FROM unnest($2::text[], $3::text[])) AND external_id <> '' AND account_id = $1`)
)

// CreateMessage inserts m, generating its ID if empty. Conflict if the
// channel already has a message with the same non-empty ExternalID;
// NotFound if the conversation is not in m.AccountID.
func (t *tx) CreateMessage(ctx context.Context, m *sb.Message) error {
	return t.createMessages(ctx, "sqlstore.CreateMessage", []*sb.Message{m})
}

// CreateMessages inserts ms as CreateMessage does, in one statement per
// chunk: Conflict also when two of them share a channel and a non-empty
// ExternalID. Nothing is written if a row fails.
func (t *tx) CreateMessages(ctx context.Context, ms []*sb.Message) error {
	return t.createMessages(ctx, "sqlstore.CreateMessages", ms)
}

func (t *tx) createMessages(ctx context.Context, op string, ms []*sb.Message) error {
	w, err := t.messagesWrite(op, ms)
	if err != nil {
		return err
	}
	return t.run(ctx, w)
}

func (t *tx) messagesWrite(op string, ms []*sb.Message) (*write, error) {
	ids, err := newIDs(len(ms), func(i int) string { return ms[i].ID })
	if err != nil {
		return nil, t.classify(op, err, "message")
	}
	return &write{m: mCreateMessage, n: len(ms),
		row: func(args []any, i int) ([]any, error) {
			m := ms[i]
			return append(args, ids[i], m.AccountID, m.ConversationID, m.ChannelID, m.Direction,
				m.AuthorUserID, m.ContactID, m.Body, m.ExternalID, micros(m.CreatedAt), rawText(m.Meta),
				m.Delivery, m.DeliveryDetail), nil
		},
		fail: func(err error) error {
			return t.classifyConflict(op, err, "message", "message with this external id")
		},
		done: func(int64, []int64) error {
			for i, m := range ms {
				m.ID = ids[i]
			}
			return nil
		}}, nil
}

// Messages returns the conversation's thread, oldest first; empty if the
// conversation has none or is not in the account.
func (t *tx) Messages(ctx context.Context, accountID, conversationID string) ([]*sb.Message, error) {
	return list(ctx, t, "sqlstore.Messages", "messages", scanMessage, qMessages, accountID, conversationID)
}

// Message returns the account's message with this id.
func (t *tx) Message(ctx context.Context, accountID, id string) (*sb.Message, error) {
	return one(ctx, t, "sqlstore.Message", "message", scanMessage, qMessage, accountID, id)
}

// SetMessageDelivery records an outgoing message's delivery state; a
// non-empty externalID (the platform's id for it) replaces the stored one.
func (t *tx) SetMessageDelivery(ctx context.Context, accountID, id, delivery, detail, externalID string) error {
	return t.execOne(ctx, "sqlstore.SetMessageDelivery", "message", mSetDelivery, accountID, id, delivery, detail, externalID)
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

// MessagesByExternalIDs returns the account's messages with these
// (channel, external id) keys, in no particular order; missing keys and
// empty external ids are left out.
func (t *tx) MessagesByExternalIDs(ctx context.Context, accountID string, keys []sb.ExternalKey) ([]*sb.Message, error) {
	const op, what = "sqlstore.MessagesByExternalIDs", "messages"
	args, err := t.messagesByExternalIDsArgs(accountID, keys)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	if args == nil {
		return []*sb.Message{}, nil
	}
	return list(ctx, t, op, what, scanMessage, qMessagesByExternalIDs.of(t), args...)
}

// messagesByExternalIDsArgs returns qMessagesByExternalIDs' arguments, or
// nil if no key can match.
func (t *tx) messagesByExternalIDsArgs(accountID string, keys []sb.ExternalKey) ([]any, error) {
	ks := make([]sb.ExternalKey, 0, len(keys))
	for _, k := range keys {
		if k.ExternalID != "" {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return nil, nil
	}
	pairs, err := t.pairList(len(ks), func(i int) (string, string) { return ks[i].ChannelID, ks[i].ExternalID })
	if err != nil {
		return nil, err
	}
	return append([]any{accountID}, pairs...), nil
}

func scanMessage(r scanner) (*sb.Message, error) {
	var m sb.Message
	var created int64
	var meta string
	if err := r.Scan(&m.ID, &m.AccountID, &m.ConversationID, &m.ChannelID, &m.Direction,
		&m.AuthorUserID, &m.ContactID, &m.Body, &m.ExternalID, &created, &meta,
		&m.Delivery, &m.DeliveryDetail); err != nil {
		return nil, err
	}
	m.CreatedAt, m.Meta = fromMicros(created), fromRawText(meta)
	return &m, nil
}

const decisionColumns = `id, account_id, conversation_id, trigger, mode, strategy, candidates,
	outcome, assignee_id, reason, tie_break, notify_owner, used_fallback, actor_user_id, created_at, base_id`

var (
	mCreateDecision = newInsert("create_decision", "decisions", decisionColumns, "")
	// A decision stored over a base reads the base's candidates with it.
	qDecisions = newQuery("decisions", `SELECT d.id, d.account_id, d.conversation_id, d.trigger, d.mode,
		d.strategy, d.candidates, d.outcome, d.assignee_id, d.reason, d.tie_break, d.notify_owner,
		d.used_fallback, d.actor_user_id, d.created_at, COALESCE(b.candidates, '')
		FROM decisions d LEFT JOIN decisions b ON b.account_id = d.account_id AND b.id = d.base_id AND d.base_id <> ''
		WHERE d.account_id = $1 AND d.conversation_id = $2 ORDER BY d.created_at, d.id`)
)

// minPooled is the smallest candidate list a batch stores once for all
// its decisions; smaller ones are cheaper stored whole.
const minPooled = 16

// CreateDecision inserts d, generating its ID if empty. NotFound if the
// conversation is not in d.AccountID.
func (t *tx) CreateDecision(ctx context.Context, d *sb.Decision) error {
	return t.createDecisions(ctx, "sqlstore.CreateDecision", []*sb.Decision{d})
}

// CreateDecisions inserts ds as CreateDecision does, in one statement per
// chunk. Nothing is written if a row fails.
func (t *tx) CreateDecisions(ctx context.Context, ds []*sb.Decision) error {
	return t.createDecisions(ctx, "sqlstore.CreateDecisions", ds)
}

func (t *tx) createDecisions(ctx context.Context, op string, ds []*sb.Decision) error {
	w, err := t.decisionsWrite(op, ds)
	if err != nil {
		return err
	}
	return t.run(ctx, w)
}

func (t *tx) decisionsWrite(op string, ds []*sb.Decision) (*write, error) {
	const what = "decision"
	ids, err := newIDs(len(ds), func(i int) string { return ds[i].ID })
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	// The compact storage form: a large pool's record is a third the size;
	// and the decisions of one batch, which weigh the same pool, are stored
	// as their changes over the first with a large pool (R-A12 records read
	// back whole).
	base := -1
	var buf []byte
	return &write{m: mCreateDecision, n: len(ds),
		row: func(args []any, i int) ([]any, error) {
			d := ds[i]
			baseID := ""
			buf = buf[:0]
			over := false
			if base >= 0 && base < i && ds[base].AccountID == d.AccountID {
				if buf, over = d.Candidates.AppendCompactOver(buf, ds[base].Candidates); over {
					baseID = ids[base]
				}
			}
			if !over {
				buf = d.Candidates.AppendCompact(buf)
				if base < 0 && len(d.Candidates) >= minPooled {
					base = i
				}
			}
			return append(args, ids[i], d.AccountID, d.ConversationID, d.Trigger, d.Mode, d.Strategy, string(buf),
				d.Outcome, d.AssigneeID, d.Reason, d.TieBreak, d.NotifyOwner, d.UsedFallback, d.ActorUserID,
				micros(d.CreatedAt), baseID), nil
		},
		fail: func(err error) error { return t.classify(op, err, what) },
		done: func(int64, []int64) error {
			for i, d := range ds {
				d.ID = ids[i]
			}
			return nil
		}}, nil
}

// Decisions returns the conversation's routing records, oldest first;
// empty if there are none or the conversation is not in the account.
func (t *tx) Decisions(ctx context.Context, accountID, conversationID string) ([]*sb.Decision, error) {
	return list(ctx, t, "sqlstore.Decisions", "decisions", scanDecision, qDecisions, accountID, conversationID)
}

func scanDecision(r scanner) (*sb.Decision, error) {
	var d sb.Decision
	var cands, base string
	var created int64
	if err := r.Scan(&d.ID, &d.AccountID, &d.ConversationID, &d.Trigger, &d.Mode, &d.Strategy,
		&cands, &d.Outcome, &d.AssigneeID, &d.Reason, &d.TieBreak, &d.NotifyOwner,
		&d.UsedFallback, &d.ActorUserID, &created, &base); err != nil {
		return nil, err
	}
	cs, err := sb.ParseCandidatesOver([]byte(cands), []byte(base))
	if err != nil {
		return nil, err
	}
	d.Candidates = cs
	d.CreatedAt = fromMicros(created)
	return &d, nil
}
