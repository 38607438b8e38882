package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qRoutingWeights    = newQuery("routing_weights", `SELECT enabled, costs, capacities, updated_at FROM routing_weights WHERE account_id = $1`)
	qSetRoutingWeights = newQuery("set_routing_weights", `INSERT INTO routing_weights (account_id, enabled, costs, capacities, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled, costs = excluded.costs,
			capacities = excluded.capacities, updated_at = excluded.updated_at`)
	// qOpenLoads runs on the index conversations_open_load alone.
	qOpenLoads = newQuery("open_loads", `SELECT assignee_id, channel_kind, COUNT(*) FROM conversations
		WHERE account_id = $1 AND status = 'open' AND assignee_id <> ''
		GROUP BY assignee_id, channel_kind ORDER BY assignee_id, channel_kind`)
	qRecordedConversations = newQuery("recorded_conversations", `SELECT c.id, c.contact_id, k.owner_id, k.created_at,
		c.assignee_id, c.created_at, c.closed_at,
		COALESCE((SELECT MIN(d.created_at) FROM decisions d
			WHERE d.account_id = c.account_id AND d.conversation_id = c.id AND d.outcome = 'assigned'), 0)
		FROM conversations c JOIN contacts k ON k.account_id = c.account_id AND k.id = c.contact_id
		WHERE c.account_id = $1 AND c.channel_id = $2 AND c.created_at >= $3 AND c.created_at < $4
		ORDER BY c.created_at, c.id`)
)

// RoutingWeights returns the account's weights setting (R-X5). NotFound
// if it was never set.
func (t *tx) RoutingWeights(ctx context.Context, accountID string) (*sb.RoutingWeights, error) {
	const op = "sqlstore.RoutingWeights"
	var w sb.RoutingWeights
	var costs, caps string
	var updated int64
	err := t.queryRow(ctx, qRoutingWeights, accountID).Scan(&w.Enabled, &costs, &caps, &updated)
	if err != nil {
		return nil, t.classify(op, err, "routing weights")
	}
	if err := json.Unmarshal([]byte(costs), &w.Costs); err != nil {
		return nil, internalf(op, "routing weights costs: %v", err)
	}
	if err := json.Unmarshal([]byte(caps), &w.Capacities); err != nil {
		return nil, internalf(op, "routing weights capacities: %v", err)
	}
	w.UpdatedAt = fromMicros(updated)
	return &w, nil
}

// SetRoutingWeights creates or replaces the account's weights setting.
// NotFound if the account does not exist.
func (t *tx) SetRoutingWeights(ctx context.Context, accountID string, w *sb.RoutingWeights) error {
	const op = "sqlstore.SetRoutingWeights"
	costs, err := jsonText(nonNil(w.Costs))
	if err != nil {
		return internalf(op, "costs: %v", err)
	}
	caps, err := jsonText(nonNil(w.Capacities))
	if err != nil {
		return internalf(op, "capacities: %v", err)
	}
	if _, err := t.exec(ctx, qSetRoutingWeights, accountID, w.Enabled, costs, caps, micros(w.UpdatedAt)); err != nil {
		return t.classify(op, err, "account")
	}
	return nil
}

func nonNil[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// OpenLoads counts each user's open assigned conversations per channel
// kind, ordered by user and kind.
func (t *tx) OpenLoads(ctx context.Context, accountID string) ([]sb.KindLoad, error) {
	const op = "sqlstore.OpenLoads"
	rows, err := t.query(ctx, qOpenLoads, accountID)
	if err != nil {
		return nil, t.classify(op, err, "conversations")
	}
	defer rows.Close()
	out := []sb.KindLoad{}
	for rows.Next() {
		var l sb.KindLoad
		if err := rows.Scan(&l.UserID, &l.Kind, &l.Open); err != nil {
			return nil, t.classify(op, err, "conversations")
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, t.classify(op, err, "conversations")
	}
	return out, nil
}

// RecordedConversations returns the channel's conversations created in
// [from, to), oldest first, for the dry run (R-X6).
func (t *tx) RecordedConversations(ctx context.Context, accountID, channelID string, from, to time.Time) ([]sb.RecordedConversation, error) {
	const op = "sqlstore.RecordedConversations"
	rows, err := t.query(ctx, qRecordedConversations, accountID, channelID, micros(from), micros(to))
	if err != nil {
		return nil, t.classify(op, err, "conversations")
	}
	defer rows.Close()
	out := []sb.RecordedConversation{}
	for rows.Next() {
		var r sb.RecordedConversation
		var contactAt, created, closed, assigned int64
		if err := rows.Scan(&r.ID, &r.ContactID, &r.ContactOwnerID, &contactAt, &r.AssigneeID, &created, &closed, &assigned); err != nil {
			return nil, t.classify(op, err, "conversations")
		}
		r.ContactCreatedAt, r.CreatedAt, r.ClosedAt, r.AssignedAt = fromMicros(contactAt), fromMicros(created), fromMicros(closed), fromMicros(assigned)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, t.classify(op, err, "conversations")
	}
	return out, nil
}
