package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Tickets, pipelines, the account's ticket limits and conversation flags
// (R-T1 … R-T4).

// Page sizes of ticket lists. The API's pages hold at most 200; callers
// ask for one more row to know whether another page follows.
const (
	ticketsDefaultLimit = 50
	ticketsMaxLimit     = 500
)

const pipelineColumns = `id, account_id, name, stages, created_at, updated_at`

const ticketColumns = `id, account_id, pipeline_id, stage_id, name, description, owner_id,
	owner_set_manually, contact_id, conversation_id, inbox_id, created_at, updated_at`

const flagColumns = `account_id, conversation_id, flag, detail, created_at`

var (
	qCreatePipeline = newQuery("create_pipeline", `INSERT INTO pipelines (`+pipelineColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)`)
	qUpdatePipeline = newQuery("update_pipeline", `UPDATE pipelines SET name = $3, stages = $4, updated_at = $5
		WHERE account_id = $1 AND id = $2`)
	qPipeline = newQuery("pipeline",
		`SELECT `+pipelineColumns+` FROM pipelines WHERE account_id = $1 AND id = $2`)
	qPipelines = newQuery("pipelines",
		`SELECT `+pipelineColumns+` FROM pipelines WHERE account_id = $1 ORDER BY created_at, id`)

	mCreateTicket = newInsert("create_ticket", "tickets", ticketColumns, "")
	qUpdateTicket = newQuery("update_ticket", `UPDATE tickets SET pipeline_id = $3, stage_id = $4,
		name = $5, description = $6, owner_id = $7, owner_set_manually = $8, contact_id = $9,
		conversation_id = $10, inbox_id = $11, updated_at = $12
		WHERE account_id = $1 AND id = $2`)
	qTicket = newQuery("ticket",
		`SELECT `+ticketColumns+` FROM tickets WHERE account_id = $1 AND id = $2`)
	// qTickets is completed by Tickets with the filter's conditions, then
	// qTicketsOrder.
	qTickets      = newQuery("tickets", `SELECT `+ticketColumns+` FROM tickets WHERE account_id = $1`)
	qTicketsOrder = ` ORDER BY created_at DESC, id DESC LIMIT `

	qContactTicketCounts = newDialectQuery("contact_ticket_counts",
		`SELECT contact_id, COUNT(*) FROM tickets WHERE account_id = $1 AND `+sqliteInKeys("contact_id", 2)+` GROUP BY contact_id`,
		`SELECT contact_id, COUNT(*) FROM tickets WHERE account_id = $1 AND `+pgInKeys("contact_id", 2)+` GROUP BY contact_id`)
	qStageTicketCounts = newQuery("stage_ticket_counts",
		`SELECT stage_id, COUNT(*) FROM tickets WHERE account_id = $1 AND pipeline_id = $2 GROUP BY stage_id`)
	// qFollowAssignees is R-T2: the (ticket, owner) pairs come as one
	// parameter (pairList), the time last. (On SQLite, UPDATE … FROM the
	// key list made the planner walk the account's tickets; the IN form
	// probes the primary key per pair.)
	qFollowAssignees = newDialectQuery("follow_assignees",
		`UPDATE tickets SET updated_at = $3,
			owner_id = (SELECT k.value->>1 FROM json_each($2) AS k WHERE k.value->>0 = tickets.id)
		WHERE account_id = $1 AND id IN (SELECT value->>0 FROM json_each($2))
			AND owner_id = '' AND owner_set_manually = FALSE
		RETURNING `+ticketColumns,
		`UPDATE tickets SET owner_id = k.owner_id, updated_at = $4
		FROM unnest($2::text[], $3::text[]) AS k (id, owner_id)
		WHERE tickets.account_id = $1 AND tickets.id = k.id
			AND tickets.owner_id = '' AND tickets.owner_set_manually = FALSE
		RETURNING `+qualified("tickets", ticketColumns))

	qTicketLimits = newQuery("ticket_limits",
		`SELECT account_id, contact_limit, updated_at FROM ticket_limits WHERE account_id = $1`)
	qPutTicketLimits = newQuery("put_ticket_limits", `INSERT INTO ticket_limits (account_id, contact_limit, updated_at)
		VALUES ($1, $2, $3) ON CONFLICT (account_id) DO UPDATE
		SET contact_limit = excluded.contact_limit, updated_at = excluded.updated_at`)

	mAddConversationFlag = newInsert("add_conversation_flag", "conversation_flags", flagColumns,
		` ON CONFLICT DO NOTHING`)
	qConversationFlags = newQuery("conversation_flags", `SELECT `+flagColumns+` FROM conversation_flags
		WHERE account_id = $1 AND conversation_id = $2 ORDER BY created_at, flag`)
)

// CreatePipeline inserts p, generating its ID if empty. NotFound if the
// account does not exist; Conflict if it has a pipeline of that name.
func (t *tx) CreatePipeline(ctx context.Context, p *sb.Pipeline) error {
	const op, what = "sqlstore.CreatePipeline", "pipeline with this name"
	id, err := newID(p.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	stages, err := jsonText(stagesOrEmpty(p.Stages))
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreatePipeline, id, p.AccountID, p.Name, stages, micros(p.CreatedAt), micros(p.UpdatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	p.ID = id
	return nil
}

// UpdatePipeline writes name, stages and updated-at. NotFound if the
// pipeline is not in p.AccountID; Conflict if the name is taken.
func (t *tx) UpdatePipeline(ctx context.Context, p *sb.Pipeline) error {
	const op, what = "sqlstore.UpdatePipeline", "pipeline with this name"
	stages, err := jsonText(stagesOrEmpty(p.Stages))
	if err != nil {
		return t.classify(op, err, what)
	}
	res, err := t.exec(ctx, qUpdatePipeline, p.AccountID, p.ID, p.Name, stages, micros(p.UpdatedAt))
	if err != nil {
		return t.classify(op, err, what)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return firstErr(t.classify(op, err, what), notFound(op, "pipeline"))
	}
	return nil
}

func stagesOrEmpty(s []sb.Stage) []sb.Stage {
	if s == nil {
		return []sb.Stage{}
	}
	return s
}

// Pipeline returns the account's pipeline with id; NotFound otherwise.
func (t *tx) Pipeline(ctx context.Context, accountID, id string) (*sb.Pipeline, error) {
	return one(ctx, t, "sqlstore.Pipeline", "pipeline", scanPipeline, qPipeline, accountID, id)
}

// Pipelines lists the account's pipelines, oldest first.
func (t *tx) Pipelines(ctx context.Context, accountID string) ([]*sb.Pipeline, error) {
	return list(ctx, t, "sqlstore.Pipelines", "pipelines", scanPipeline, qPipelines, accountID)
}

func scanPipeline(r scanner) (*sb.Pipeline, error) {
	var p sb.Pipeline
	var stages string
	var created, updated int64
	if err := r.Scan(&p.ID, &p.AccountID, &p.Name, &stages, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(stages), &p.Stages); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

// CreateTickets inserts ts in one statement per chunk, generating empty
// ids. NotFound if a pipeline does not exist in the ticket's account;
// Conflict if an id exists. Nothing is written if a row fails.
func (t *tx) CreateTickets(ctx context.Context, ts []*sb.Ticket) error {
	const op, what = "sqlstore.CreateTickets", "ticket"
	if len(ts) == 0 {
		return nil
	}
	ids, err := newIDs(len(ts), func(i int) string { return ts[i].ID })
	if err != nil {
		return t.classify(op, err, what)
	}
	_, err = t.execRows(ctx, mCreateTicket, len(ts), func(args []any, i int) ([]any, error) {
		k := ts[i]
		return append(args, ids[i], k.AccountID, k.PipelineID, k.StageID, k.Name, k.Description, k.OwnerID,
			k.OwnerSetManually, k.ContactID, k.ConversationID, k.InboxID, micros(k.CreatedAt), micros(k.UpdatedAt)), nil
	})
	if err != nil {
		return t.classify(op, err, what)
	}
	for i, k := range ts {
		k.ID = ids[i]
	}
	return nil
}

// UpdateTicket writes every field but ID, AccountID and CreatedAt.
// NotFound if the ticket is not in k.AccountID or its new pipeline does
// not exist there.
func (t *tx) UpdateTicket(ctx context.Context, k *sb.Ticket) error {
	return t.execOne(ctx, "sqlstore.UpdateTicket", "ticket", qUpdateTicket, k.AccountID, k.ID,
		k.PipelineID, k.StageID, k.Name, k.Description, k.OwnerID, k.OwnerSetManually, k.ContactID,
		k.ConversationID, k.InboxID, micros(k.UpdatedAt))
}

// Ticket returns the account's ticket with id; NotFound otherwise.
func (t *tx) Ticket(ctx context.Context, accountID, id string) (*sb.Ticket, error) {
	return one(ctx, t, "sqlstore.Ticket", "ticket", scanTicket, qTicket, accountID, id)
}

// Tickets lists the tickets f selects, newest first (ties by id,
// descending), after the cursor if set. f.Limit <= 0 means 50; at most
// 500. A non-nil f.InboxIDs keeps the tickets of those inboxes and those
// without an inbox.
func (t *tx) Tickets(ctx context.Context, f sb.TicketFilter) ([]*sb.Ticket, error) {
	const op, what = "sqlstore.Tickets", "tickets"
	w := where{args: []any{f.AccountID}}
	var b strings.Builder
	b.WriteString(qTickets.sql)
	for _, c := range []struct{ col, v string }{
		{"pipeline_id", f.PipelineID}, {"stage_id", f.StageID}, {"owner_id", f.OwnerID},
		{"contact_id", f.ContactID}, {"conversation_id", f.ConversationID},
	} {
		if c.v != "" {
			b.WriteString(" AND " + c.col + " = " + w.arg(c.v))
		}
	}
	if f.InboxIDs != nil {
		b.WriteString(" AND (inbox_id = ''")
		if len(f.InboxIDs) > 0 {
			b.WriteString(" OR inbox_id IN (" + w.list(f.InboxIDs) + ")")
		}
		b.WriteString(")")
	}
	if !f.AfterCreated.IsZero() || f.AfterID != "" {
		b.WriteString(" AND (created_at, id) < (" + w.arg(micros(f.AfterCreated)) + ", " + w.arg(f.AfterID) + ")")
	}
	b.WriteString(qTicketsOrder + w.arg(limit(f.Limit, ticketsDefaultLimit, ticketsMaxLimit)))
	rows, err := t.querySQL(ctx, b.String(), w.args...)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return collect(t, op, what, rows, scanTicket)
}

func scanTicket(r scanner) (*sb.Ticket, error) {
	var k sb.Ticket
	var created, updated int64
	if err := r.Scan(&k.ID, &k.AccountID, &k.PipelineID, &k.StageID, &k.Name, &k.Description, &k.OwnerID,
		&k.OwnerSetManually, &k.ContactID, &k.ConversationID, &k.InboxID, &created, &updated); err != nil {
		return nil, err
	}
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &k, nil
}

// ContactTicketCounts returns how many tickets each of the contacts has in
// the account; contacts without tickets are absent. One statement.
func (t *tx) ContactTicketCounts(ctx context.Context, accountID string, contactIDs []string) (map[string]int, error) {
	const op, what = "sqlstore.ContactTicketCounts", "ticket counts"
	out := map[string]int{}
	if len(contactIDs) == 0 {
		return out, nil
	}
	l, err := t.keyList(contactIDs)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	return out, t.counts(ctx, op, what, out, qContactTicketCounts.of(t), accountID, l)
}

// StageTicketCounts returns how many tickets each stage of the pipeline
// holds; empty stages are absent.
func (t *tx) StageTicketCounts(ctx context.Context, accountID, pipelineID string) (map[string]int, error) {
	const op, what = "sqlstore.StageTicketCounts", "ticket counts"
	out := map[string]int{}
	return out, t.counts(ctx, op, what, out, qStageTicketCounts, accountID, pipelineID)
}

// counts runs a (key, count) query into out.
func (t *tx) counts(ctx context.Context, op, what string, out map[string]int, q *query, args ...any) error {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return t.classify(op, err, what)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return t.classify(op, err, what)
		}
		out[k] = n
	}
	return t.classify(op, rows.Err(), what)
}

// FollowAssignees gives each listed ticket the listed owner where it has
// none and its owner was not set manually (R-T2), in one statement, and
// returns the tickets it changed, as they are now, in no particular order.
func (t *tx) FollowAssignees(ctx context.Context, accountID string, owners []sb.TicketOwner, at time.Time) ([]*sb.Ticket, error) {
	const op, what = "sqlstore.FollowAssignees", "tickets"
	if len(owners) == 0 {
		return []*sb.Ticket{}, nil
	}
	owners = lastOfEach(owners, func(o sb.TicketOwner) string { return o.TicketID })
	pairs, err := t.pairList(len(owners), func(i int) (string, string) { return owners[i].TicketID, owners[i].OwnerID })
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	args := append(append([]any{accountID}, pairs...), micros(at))
	return list(ctx, t, op, what, scanTicket, qFollowAssignees.of(t), args...)
}

// qualified prefixes each of the comma-separated columns with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// TicketLimits returns the account's ticket settings; NotFound if they
// were never set.
func (t *tx) TicketLimits(ctx context.Context, accountID string) (*sb.TicketLimits, error) {
	return one(ctx, t, "sqlstore.TicketLimits", "ticket settings", func(r scanner) (*sb.TicketLimits, error) {
		var l sb.TicketLimits
		var updated int64
		if err := r.Scan(&l.AccountID, &l.ContactLimit, &updated); err != nil {
			return nil, err
		}
		l.UpdatedAt = fromMicros(updated)
		return &l, nil
	}, qTicketLimits, accountID)
}

// PutTicketLimits inserts or replaces the account's ticket settings.
// NotFound if the account does not exist.
func (t *tx) PutTicketLimits(ctx context.Context, l *sb.TicketLimits) error {
	const op, what = "sqlstore.PutTicketLimits", "ticket settings"
	if _, err := t.exec(ctx, qPutTicketLimits, l.AccountID, l.ContactLimit, micros(l.UpdatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	return nil
}

// AddConversationFlags stores fs in one statement per chunk; a flag the
// conversation already has stays as it was.
func (t *tx) AddConversationFlags(ctx context.Context, fs []*sb.ConversationFlag) error {
	const op, what = "sqlstore.AddConversationFlags", "conversation flag"
	if len(fs) == 0 {
		return nil
	}
	_, err := t.execRows(ctx, mAddConversationFlag, len(fs), func(args []any, i int) ([]any, error) {
		f := fs[i]
		return append(args, f.AccountID, f.ConversationID, f.Flag, f.Detail, micros(f.CreatedAt)), nil
	})
	return t.classify(op, err, what)
}

// ConversationFlags returns the conversation's flags, oldest first.
func (t *tx) ConversationFlags(ctx context.Context, accountID, conversationID string) ([]*sb.ConversationFlag, error) {
	return list(ctx, t, "sqlstore.ConversationFlags", "conversation flags", func(r scanner) (*sb.ConversationFlag, error) {
		var f sb.ConversationFlag
		var created int64
		if err := r.Scan(&f.AccountID, &f.ConversationID, &f.Flag, &f.Detail, &created); err != nil {
			return nil, err
		}
		f.CreatedAt = fromMicros(created)
		return &f, nil
	}, qConversationFlags, accountID, conversationID)
}
