package sqlstore

import (
	"context"
	"encoding/json"

	sb "github.com/switchboard-dev/switchboard"
)

const teamColumns = `id, account_id, name, main_member_ids, extra_member_ids, created_at`

var (
	qCreateTeam = newQuery("create_team", `INSERT INTO teams (`+teamColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)`)
	qUpdateTeam = newQuery("update_team", `UPDATE teams SET name = $3, main_member_ids = $4,
		extra_member_ids = $5 WHERE account_id = $1 AND id = $2`)
	qDeleteTeam = newQuery("delete_team", `DELETE FROM teams WHERE account_id = $1 AND id = $2`)
	qTeam       = newQuery("team",
		`SELECT `+teamColumns+` FROM teams WHERE account_id = $1 AND id = $2`)
	qTeams = newQuery("teams",
		`SELECT `+teamColumns+` FROM teams WHERE account_id = $1 ORDER BY created_at, id`)
)

// teamMembers encodes a team's member lists.
func teamMembers(tm *sb.Team) (main, extra string, err error) {
	if main, err = jsonText(tm.MainMemberIDs); err != nil {
		return "", "", err
	}
	extra, err = jsonText(tm.ExtraMemberIDs)
	return main, extra, err
}

// CreateTeam inserts tm, generating its ID if empty. NotFound if the
// account does not exist; Conflict if the id exists.
func (t *tx) CreateTeam(ctx context.Context, tm *sb.Team) error {
	const op, what = "sqlstore.CreateTeam", "team"
	id, err := newID(tm.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	main, extra, err := teamMembers(tm)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateTeam, id, tm.AccountID, tm.Name, main, extra, micros(tm.CreatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	tm.ID = id
	return nil
}

// UpdateTeam writes the team's name and members. NotFound if the team is
// not in tm.AccountID.
func (t *tx) UpdateTeam(ctx context.Context, tm *sb.Team) error {
	const op, what = "sqlstore.UpdateTeam", "team"
	main, extra, err := teamMembers(tm)
	if err != nil {
		return t.classify(op, err, what)
	}
	return t.execOne(ctx, op, what, qUpdateTeam, tm.AccountID, tm.ID, tm.Name, main, extra)
}

// DeleteTeam deletes the account's team. NotFound if there is none.
func (t *tx) DeleteTeam(ctx context.Context, accountID, id string) error {
	return t.execOne(ctx, "sqlstore.DeleteTeam", "team", qDeleteTeam, accountID, id)
}

// Team returns the account's team with id; NotFound otherwise.
func (t *tx) Team(ctx context.Context, accountID, id string) (*sb.Team, error) {
	return one(ctx, t, "sqlstore.Team", "team", scanTeam, qTeam, accountID, id)
}

// Teams lists the account's teams, oldest first.
func (t *tx) Teams(ctx context.Context, accountID string) ([]*sb.Team, error) {
	return list(ctx, t, "sqlstore.Teams", "teams", scanTeam, qTeams, accountID)
}

func scanTeam(r scanner) (*sb.Team, error) {
	var tm sb.Team
	var main, extra string
	var created int64
	if err := r.Scan(&tm.ID, &tm.AccountID, &tm.Name, &main, &extra, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(main), &tm.MainMemberIDs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(extra), &tm.ExtraMemberIDs); err != nil {
		return nil, err
	}
	tm.CreatedAt = fromMicros(created)
	return &tm, nil
}

const inboxColumns = `id, account_id, name, team_ids, created_at`

var (
	qCreateInbox = newQuery("create_inbox", `INSERT INTO inboxes (`+inboxColumns+`)
		VALUES ($1, $2, $3, $4, $5)`)
	qUpdateInbox = newQuery("update_inbox",
		`UPDATE inboxes SET name = $3, team_ids = $4 WHERE account_id = $1 AND id = $2`)
	qInbox = newQuery("inbox",
		`SELECT `+inboxColumns+` FROM inboxes WHERE account_id = $1 AND id = $2`)
	qInboxes = newQuery("inboxes",
		`SELECT `+inboxColumns+` FROM inboxes WHERE account_id = $1 ORDER BY created_at, id`)
)

// CreateInbox inserts in, generating its ID if empty. NotFound if the
// account does not exist; Conflict if the id exists.
func (t *tx) CreateInbox(ctx context.Context, in *sb.Inbox) error {
	const op, what = "sqlstore.CreateInbox", "inbox"
	id, err := newID(in.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	teams, err := jsonText(in.TeamIDs)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateInbox, id, in.AccountID, in.Name, teams, micros(in.CreatedAt)); err != nil {
		return t.classify(op, err, what)
	}
	in.ID = id
	return nil
}

// UpdateInbox writes the inbox's name and teams. NotFound if the inbox is
// not in in.AccountID.
func (t *tx) UpdateInbox(ctx context.Context, in *sb.Inbox) error {
	const op, what = "sqlstore.UpdateInbox", "inbox"
	teams, err := jsonText(in.TeamIDs)
	if err != nil {
		return t.classify(op, err, what)
	}
	return t.execOne(ctx, op, what, qUpdateInbox, in.AccountID, in.ID, in.Name, teams)
}

// Inbox returns the account's inbox with id; NotFound otherwise.
func (t *tx) Inbox(ctx context.Context, accountID, id string) (*sb.Inbox, error) {
	return one(ctx, t, "sqlstore.Inbox", "inbox", scanInbox, qInbox, accountID, id)
}

// Inboxes lists the account's inboxes, oldest first.
func (t *tx) Inboxes(ctx context.Context, accountID string) ([]*sb.Inbox, error) {
	return list(ctx, t, "sqlstore.Inboxes", "inboxes", scanInbox, qInboxes, accountID)
}

func scanInbox(r scanner) (*sb.Inbox, error) {
	var in sb.Inbox
	var teams string
	var created int64
	if err := r.Scan(&in.ID, &in.AccountID, &in.Name, &teams, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(teams), &in.TeamIDs); err != nil {
		return nil, err
	}
	in.CreatedAt = fromMicros(created)
	return &in, nil
}
