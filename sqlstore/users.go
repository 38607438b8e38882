package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

var (
	qCountAccounts = newQuery("count_accounts", `SELECT COUNT(*) FROM accounts`)
	qCreateAccount = newQuery("create_account",
		`INSERT INTO accounts (id, name, time_zone, created_at) VALUES ($1, $2, $3, $4)`)
	qAccount = newQuery("account",
		`SELECT id, name, time_zone, created_at FROM accounts WHERE id = $1`)
	qAccounts = newQuery("accounts",
		`SELECT id, name, time_zone, created_at FROM accounts ORDER BY created_at, id`)
)

// CountAccounts returns how many accounts exist (0 before setup).
func (t *tx) CountAccounts(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, qCountAccounts).Scan(&n); err != nil {
		return 0, t.classify("sqlstore.CountAccounts", err, "accounts")
	}
	return n, nil
}

// CreateAccount inserts a, generating its ID if empty. Conflict if the id
// exists.
func (t *tx) CreateAccount(ctx context.Context, a *sb.Account) error {
	const op = "sqlstore.CreateAccount"
	id, err := newID(a.ID)
	if err != nil {
		return t.classify(op, err, "account")
	}
	if _, err := t.exec(ctx, qCreateAccount, id, a.Name, a.TimeZone, micros(a.CreatedAt)); err != nil {
		return t.classify(op, err, "account")
	}
	a.ID = id
	return nil
}

// Account returns the account with id; NotFound if there is none.
func (t *tx) Account(ctx context.Context, id string) (*sb.Account, error) {
	return one(ctx, t, "sqlstore.Account", "account", scanAccount, qAccount, id)
}

// Accounts lists every account, oldest first (for background work that
// visits each account).
func (t *tx) Accounts(ctx context.Context) ([]*sb.Account, error) {
	return list(ctx, t, "sqlstore.Accounts", "accounts", scanAccount, qAccounts)
}

func scanAccount(r scanner) (*sb.Account, error) {
	var a sb.Account
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &a.TimeZone, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMicros(created)
	return &a, nil
}

const userColumns = `id, account_id, email, name, role, paid_seat, chat_capacity,
	manage_availability, status, status_set_by, reassign_replies, working_hours,
	out_of_office, password_hash, created_at, open_chats, last_active_at,
	last_chat_assigned_at`

var (
	qCreateUser = newQuery("create_user", `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`)
	// qUpdateUser writes every field but the load fields and the
	// immutable id, account and creation time.
	qUpdateUser = newQuery("update_user", `UPDATE users SET email = $3, name = $4, role = $5,
		paid_seat = $6, chat_capacity = $7, manage_availability = $8, status = $9,
		status_set_by = $10, reassign_replies = $11, working_hours = $12,
		out_of_office = $13, password_hash = $14
		WHERE account_id = $1 AND id = $2`)
	qUser = newQuery("user",
		`SELECT `+userColumns+` FROM users WHERE account_id = $1 AND id = $2`)
	qUserByEmail = newQuery("user_by_email",
		`SELECT `+userColumns+` FROM users WHERE email = $1`)
	qUsers = newQuery("users",
		`SELECT `+userColumns+` FROM users WHERE account_id = $1 ORDER BY created_at, id`)
	// qAddLoad adds $3 to the user's load and, unless $4 is 0, sets
	// last_chat_assigned_at to it.
	qAddLoad = newQuery("add_load", `UPDATE users SET open_chats = open_chats + $3,
		last_chat_assigned_at = CASE WHEN CAST($4 AS bigint) = 0 THEN last_chat_assigned_at
			ELSE CAST($4 AS bigint) END
		WHERE account_id = $1 AND id = $2`)
	// mAddLoads is qAddLoad for many users, from a VALUES list v of its
	// parameters.
	mAddLoads = newMulti(qAddLoad, `WITH v (account_id, id, delta, assigned_at) AS (VALUES `,
		`) UPDATE users SET open_chats = open_chats + v.delta,
			last_chat_assigned_at = CASE WHEN v.assigned_at = 0 THEN users.last_chat_assigned_at
				ELSE v.assigned_at END
		FROM v WHERE users.account_id = v.account_id AND users.id = v.id`,
		[]string{"text", "text", "integer", "bigint"})
	qTouchUser = newQuery("touch_user",
		`UPDATE users SET last_active_at = $3 WHERE account_id = $1 AND id = $2`)
)

// userArgs returns the columns of qUpdateUser from $3 on.
func userArgs(u *sb.User) ([]any, error) {
	wh, err := jsonText(u.WorkingHours)
	if err != nil {
		return nil, err
	}
	ooo, err := jsonText(u.OutOfOffice)
	if err != nil {
		return nil, err
	}
	return []any{strings.ToLower(u.Email), u.Name, string(u.Role), u.PaidSeat, u.ChatCapacity,
		u.ManageAvailability, string(u.Status), u.StatusSetBy, u.ReassignReplies, wh, ooo,
		u.PasswordHash}, nil
}

// CreateUser inserts u, generating its ID if empty and storing its email
// lower-case (u is updated to match). Conflict if the email is taken in
// any account; NotFound if the account does not exist.
func (t *tx) CreateUser(ctx context.Context, u *sb.User) error {
	const op = "sqlstore.CreateUser"
	const what = "user with this email"
	id, err := newID(u.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	rest, err := userArgs(u)
	if err != nil {
		return t.classify(op, err, what)
	}
	args := append([]any{id, u.AccountID}, rest...)
	args = append(args, micros(u.CreatedAt), u.OpenChats, micros(u.LastActiveAt), micros(u.LastChatAssignedAt))
	if _, err := t.exec(ctx, qCreateUser, args...); err != nil {
		return t.classifyConflict(op, err, "user", what)
	}
	u.ID, u.Email = id, strings.ToLower(u.Email)
	return nil
}

// UpdateUser writes every field of u but ID, AccountID, CreatedAt and the
// load fields (OpenChats, LastActiveAt, LastChatAssignedAt). NotFound if
// the user is not in u.AccountID; Conflict if the new email is taken.
func (t *tx) UpdateUser(ctx context.Context, u *sb.User) error {
	const op = "sqlstore.UpdateUser"
	rest, err := userArgs(u)
	if err != nil {
		return t.classify(op, err, "user")
	}
	res, err := t.exec(ctx, qUpdateUser, append([]any{u.AccountID, u.ID}, rest...)...)
	if err != nil {
		return t.classifyConflict(op, err, "user", "user with this email")
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return firstErr(t.classify(op, err, "user"), notFound(op, "user"))
	}
	u.Email = strings.ToLower(u.Email)
	return nil
}

// User returns the account's user with id; NotFound otherwise.
func (t *tx) User(ctx context.Context, accountID, id string) (*sb.User, error) {
	return one(ctx, t, "sqlstore.User", "user", scanUser, qUser, accountID, id)
}

// UserByEmail finds a user by email, case-insensitively, in any account;
// NotFound otherwise.
func (t *tx) UserByEmail(ctx context.Context, email string) (*sb.User, error) {
	const op, what = "sqlstore.UserByEmail", "user with this email"
	if email == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanUser, qUserByEmail, strings.ToLower(email))
}

// Users lists the account's users, oldest first.
func (t *tx) Users(ctx context.Context, accountID string) ([]*sb.User, error) {
	return list(ctx, t, "sqlstore.Users", "users", scanUser, qUsers, accountID)
}

// AddLoad adds delta to the user's OpenChats and, if assignedAt is not
// zero, sets LastChatAssignedAt. NotFound if the user is not in the
// account.
func (t *tx) AddLoad(ctx context.Context, accountID, userID string, delta int, assignedAt time.Time) error {
	return t.addLoads(ctx, "sqlstore.AddLoad", accountID,
		[]sb.LoadDelta{{UserID: userID, Delta: delta, AssignedAt: assignedAt}})
}

// AddLoads applies each delta as AddLoad does, in one statement per
// chunk; the deltas of a user given twice add up (the last non-zero
// AssignedAt wins). NotFound if a user is not in the account; if others
// were written, the transaction is doomed, so that the call never commits
// half-done.
func (t *tx) AddLoads(ctx context.Context, accountID string, ds []sb.LoadDelta) error {
	return t.addLoads(ctx, "sqlstore.AddLoads", accountID, ds)
}

func (t *tx) addLoads(ctx context.Context, op, accountID string, ds []sb.LoadDelta) error {
	return t.run(ctx, t.loadsWrite(op, accountID, ds))
}

func (t *tx) loadsWrite(op, accountID string, ds []sb.LoadDelta) *write {
	const what = "user"
	if len(ds) > 1 {
		ds = mergeLoads(ds)
	}
	return &write{m: mAddLoads, n: len(ds),
		row: func(args []any, i int) ([]any, error) {
			return append(args, accountID, ds[i].UserID, ds[i].Delta, micros(ds[i].AssignedAt)), nil
		},
		fail: func(err error) error { return t.classify(op, err, what) },
		done: func(n int64, _ []int64) error { return t.short(op, what, n, len(ds)) }}
}

// mergeLoads adds up the deltas of a user given more than once, keeping
// the last non-zero AssignedAt: an UPDATE … FROM changes a row once.
func mergeLoads(ds []sb.LoadDelta) []sb.LoadDelta {
	at := make(map[string]int, len(ds))
	out := make([]sb.LoadDelta, 0, len(ds))
	for _, d := range ds {
		j, dup := at[d.UserID]
		if !dup {
			at[d.UserID] = len(out)
			out = append(out, d)
			continue
		}
		out[j].Delta += d.Delta
		if !d.AssignedAt.IsZero() {
			out[j].AssignedAt = d.AssignedAt
		}
	}
	return out
}

// TouchUser sets the user's LastActiveAt (R-V2). NotFound if the user is
// not in the account.
func (t *tx) TouchUser(ctx context.Context, accountID, userID string, at time.Time) error {
	return t.execOne(ctx, "sqlstore.TouchUser", "user", qTouchUser, accountID, userID, micros(at))
}

// noWorkingHours is how a zero sb.WorkingHours is stored.
const noWorkingHours = `{"time_zone":"","ranges":null}`

func scanUser(r scanner) (*sb.User, error) {
	var u sb.User
	var role, status, wh, ooo string
	var created, active, assigned int64
	err := r.Scan(&u.ID, &u.AccountID, &u.Email, &u.Name, &role, &u.PaidSeat, &u.ChatCapacity,
		&u.ManageAvailability, &status, &u.StatusSetBy, &u.ReassignReplies, &wh, &ooo,
		&u.PasswordHash, &created, &u.OpenChats, &active, &assigned)
	if err != nil {
		return nil, err
	}
	// Most users have no hours and no out-of-office; skipping the decoder
	// for those keeps loading a routing snapshot of many users cheap.
	if wh != noWorkingHours {
		if err := json.Unmarshal([]byte(wh), &u.WorkingHours); err != nil {
			return nil, err
		}
	}
	if ooo != "null" && ooo != "[]" {
		if err := json.Unmarshal([]byte(ooo), &u.OutOfOffice); err != nil {
			return nil, err
		}
	}
	u.Role, u.Status = sb.Role(role), sb.Status(status)
	u.CreatedAt, u.LastActiveAt, u.LastChatAssignedAt = fromMicros(created), fromMicros(active), fromMicros(assigned)
	return &u, nil
}

const tokenColumns = `id, account_id, user_id, hash, name, created_at, scope`

var (
	qCreateToken = newQuery("create_token", `INSERT INTO tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`)
	qTokensByScope = newQuery("tokens_by_scope", `SELECT `+tokenColumns+` FROM tokens
		WHERE account_id = $1 AND scope = $2 ORDER BY created_at, id LIMIT 500`)
	mDeleteTokenByID = newQuery("delete_token_by_id", `DELETE FROM tokens WHERE account_id = $1 AND id = $2 AND scope = $3`)
	qTokenByHash     = newQuery("token_by_hash",
		`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`)
)

// CreateToken inserts tok, generating its ID if empty. Conflict if the
// hash exists; NotFound if the account does not exist.
func (t *tx) CreateToken(ctx context.Context, tok *sb.Token) error {
	const op, what = "sqlstore.CreateToken", "token"
	id, err := newID(tok.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	if _, err := t.exec(ctx, qCreateToken, id, tok.AccountID, tok.UserID, tok.Hash, tok.Name, micros(tok.CreatedAt), tok.Scope); err != nil {
		return t.classify(op, err, what)
	}
	tok.ID = id
	return nil
}

// TokenByHash finds a token by its hash, in any account (the token is what
// tells the account); NotFound otherwise.
func (t *tx) TokenByHash(ctx context.Context, hash string) (*sb.Token, error) {
	const op, what = "sqlstore.TokenByHash", "token"
	if hash == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanToken, qTokenByHash, hash)
}

// TokensByScope lists the account's tokens of a scope, oldest first (at
// most 500).
func (t *tx) TokensByScope(ctx context.Context, accountID, scope string) ([]*sb.Token, error) {
	return list(ctx, t, "sqlstore.TokensByScope", "tokens", scanToken, qTokensByScope, accountID, scope)
}

// DeleteTokenByID removes the account's token of this scope and id;
// NotFound if there is none.
func (t *tx) DeleteTokenByID(ctx context.Context, accountID, id, scope string) error {
	return t.execOne(ctx, "sqlstore.DeleteTokenByID", "token", mDeleteTokenByID, accountID, id, scope)
}

func scanToken(r scanner) (*sb.Token, error) {
	var tok sb.Token
	var created int64
	if err := r.Scan(&tok.ID, &tok.AccountID, &tok.UserID, &tok.Hash, &tok.Name, &created, &tok.Scope); err != nil {
		return nil, err
	}
	tok.CreatedAt = fromMicros(created)
	return &tok, nil
}
