package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// TestPostgresFailedUpdatesLeaveNothing: a PostgreSQL Update begins and
// ends its transaction itself (to pipeline), so each way an Update can
// fail must end it: the next Update on the same connection commits only
// its own rows, never the failed one's.
func TestPostgresFailedUpdatesLeaveNothing(t *testing.T) {
	s := open(t, pgtest.DSN(t))
	sqlstore.SetMaxWriteConns(s, 1) // every Update on one connection
	ctx := t.Context()
	account := newAccount(t, s)
	contact := func(tx sb.Tx, email string) error {
		return tx.CreateContact(ctx, &sb.Contact{AccountID: account, Email: email})
	}
	errFn := errors.New("fn failed")
	cases := []struct {
		name string
		run  func(email string) error
	}{
		{"fn returns an error", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				return errFn
			})
		}},
		{"fn panics", func(email string) (err error) {
			defer func() {
				if recover() != nil {
					err = errFn
				}
			}()
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				panic("fn panics")
			})
		}},
		{"the context ends", func(email string) error {
			cctx, cancel := context.WithCancel(ctx)
			return s.Update(cctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				cancel()
				_, err := tx.Contact(cctx, account, "x") // fails: the context ended
				return err
			})
		}},
		{"a statement dooms it and fn ignores that", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				_ = contact(tx, "taken@x.test") // a duplicate: doomed
				return nil
			})
		}},
		{"a batch write held for the commit fails there", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				return tx.CommitBatch(ctx, &sb.BatchWrite{AccountID: account,
					Contacts: []*sb.Contact{{AccountID: account, Email: email}},
					Messages: []*sb.Message{{AccountID: account, ConversationID: "missing", ChannelID: "c"}}})
			})
		}},
		{"a batch write fails halfway", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				return tx.WriteBatch(ctx, &sb.BatchWrite{AccountID: account,
					Contacts: []*sb.Contact{{AccountID: account, Email: email}},
					Messages: []*sb.Message{{AccountID: account, ConversationID: "missing", ChannelID: "c"}}})
			})
		}},
	}
	if err := s.Update(ctx, account, func(tx sb.Tx) error { return contact(tx, "taken@x.test") }); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed, next := c.name+"@failed.test", c.name+"@next.test"
			if err := c.run(failed); err == nil {
				t.Fatal("the Update succeeded; want it to fail")
			}
			if err := s.Update(ctx, account, func(tx sb.Tx) error { return contact(tx, next) }); err != nil {
				t.Fatalf("the next Update: %v", err)
			}
			if err := s.View(ctx, func(tx sb.Tx) error {
				got, err := tx.ContactsByKeys(ctx, account, []string{failed, next}, nil, nil)
				if err != nil {
					return err
				}
				if len(got) != 1 || got[0].Email != next {
					t.Errorf("contacts after the failed Update and the next: %d (%v); want only %s", len(got), got, next)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPostgresEventsNotifyReferences: the events table's trigger notifies
// each statement's events as one reference per account (first and last
// id), delivered only if the transaction commits: two AppendEvents, a
// CommitBatch sent with the commit, one statement with two accounts'
// events, and a rolled back Update that notifies nothing.
func TestPostgresEventsNotifyReferences(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	ctx := t.Context()
	conn := connect(t, dsn)
	if _, err := conn.Exec(ctx, "LISTEN switchboard_events"); err != nil {
		t.Fatal(err)
	}
	type ref struct {
		ID        int64  `json:"id"`
		Last      int64  `json:"last"`
		AccountID string `json:"account_id"`
		Ref       bool   `json:"ref"`
	}
	next := func() (ref, bool) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wctx)
		if err != nil {
			return ref{}, false
		}
		var refs []ref
		if err := json.Unmarshal([]byte(n.Payload), &refs); err != nil || len(refs) != 1 {
			t.Fatalf("notification %q: want a JSON array of one reference (%v)", n.Payload, err)
		}
		return refs[0], true
	}
	accounts := make([]string, 2)
	if err := s.Update(ctx, "", func(tx sb.Tx) error {
		for i := range accounts {
			a := &sb.Account{Name: "a"}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			accounts[i] = a.ID
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	a := accounts[0]
	events := func(account string, n int) []*sb.Event {
		es := make([]*sb.Event, n)
		for i := range es {
			es[i] = &sb.Event{AccountID: account, Type: "t"}
		}
		return es
	}
	var first, second, batch []*sb.Event
	if err := s.Update(ctx, a, func(tx sb.Tx) error {
		first, second = events(a, 3), events(a, 1)
		if err := tx.AppendEvents(ctx, first); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, second)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, a, func(tx sb.Tx) error {
		batch = events(a, 5)
		return tx.CommitBatch(ctx, &sb.BatchWrite{AccountID: a, Events: batch})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, a, func(tx sb.Tx) error {
		if err := tx.AppendEvents(ctx, events(a, 2)); err != nil {
			return err
		}
		return errors.New("rolled back")
	}); err == nil {
		t.Fatal("the Update that should roll back succeeded")
	}
	both := append(events(a, 2), events(accounts[1], 2)...)
	if err := s.Update(ctx, a, func(tx sb.Tx) error { return tx.AppendEvents(ctx, both) }); err != nil {
		t.Fatal(err)
	}
	want := []ref{
		{first[0].ID, first[2].ID, a, true},
		{second[0].ID, second[0].ID, a, true},
		{batch[0].ID, batch[4].ID, a, true},
		{both[0].ID, both[1].ID, a, true},
		{both[2].ID, both[3].ID, accounts[1], true},
	}
	var got []ref
	for range want {
		r, ok := next()
		if !ok {
			break
		}
		got = append(got, r)
	}
	// The two accounts' references of one statement come in no set order.
	if n := len(got); n == len(want) && got[n-1].AccountID == a {
		got[n-2], got[n-1] = got[n-1], got[n-2]
	}
	if len(got) != len(want) {
		t.Fatalf("notifications %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] || want[i].ID == 0 {
			t.Fatalf("notification %d: %+v, want %+v (all: %+v)", i, got[i], want[i], got)
		}
	}
	if r, ok := next(); ok {
		t.Fatalf("an extra notification: %+v (the rolled back Update's?)", r)
	}
}

// TestPostgresCommitBatchSettingsEnd: CommitBatch plans its account-keyed
// rows generically (genericPlans), and what follows it in the
// transaction, if anything does, runs with the connection's settings
// again.
func TestPostgresCommitBatchSettingsEnd(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, c := range []struct{ dsn, planMode string }{
		{dsn, "force_custom_plan"},              // the store's default
		{dsn + "&plan_cache_mode=auto", "auto"}, // an operator's, from the DSN
	} {
		s := open(t, c.dsn)
		ctx := t.Context()
		account := newAccount(t, s)
		if err := s.Update(ctx, account, func(tx sb.Tx) error {
			err := tx.CommitBatch(ctx, &sb.BatchWrite{AccountID: account,
				Contacts: []*sb.Contact{{AccountID: account, Email: "c@x.test"}},
				Events:   []*sb.Event{{AccountID: account, Type: "t"}}})
			if err != nil {
				return err
			}
			for name, want := range map[string]string{"plan_cache_mode": c.planMode, "enable_seqscan": "on"} {
				if got, err := sqlstore.Setting(ctx, tx, name); err != nil || got != want {
					t.Errorf("%s after CommitBatch: %q (%v), want %q", name, got, err, want)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPostgresStatsWatch: once contacts and conversations hold 1,000 rows
// the store analyses them, without waiting for autovacuum, and only then
// plans their foreign-key checks generically; with the statistics, the
// generic plan of a conversation's key check is the key's own index (on
// the fresh tables it was another index that begins with the account).
func TestPostgresStatsWatch(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	ctx := t.Context()
	account := newAccount(t, s)
	if sqlstore.StatsReady(s) {
		t.Fatal("statistics ready on empty tables")
	}
	var contacts []*sb.Contact
	var convs []*sb.Conversation
	for i := range 1000 {
		c := &sb.Contact{AccountID: account, Email: "c" + strconv.Itoa(i) + "@x.test"}
		contacts = append(contacts, c)
	}
	if err := s.Update(ctx, account, func(tx sb.Tx) error {
		if err := tx.CreateContacts(ctx, contacts); err != nil {
			return err
		}
		for _, c := range contacts {
			convs = append(convs, &sb.Conversation{AccountID: account, ContactID: c.ID, InboxID: "i", ChannelID: "ch", ChannelKind: sb.KindChat, Status: sb.StatusOpen})
		}
		return tx.CreateConversations(ctx, convs)
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !sqlstore.StatsReady(s) {
		if time.Now().After(deadline) {
			t.Fatal("the statistics were not ready 15 s after 1,000 contacts and conversations")
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn := connect(t, dsn)
	var plan strings.Builder
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, q := range []string{"SET LOCAL plan_cache_mode = force_generic_plan", "SET LOCAL enable_seqscan = off",
			"PREPARE keycheck (text, text) AS SELECT 1 FROM ONLY conversations x WHERE account_id = $1 AND id = $2 FOR KEY SHARE OF x"} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, "EXPLAIN EXECUTE keycheck('a', 'b')")
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		plan.WriteString(strings.Join(lines, "\n"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "conversations_account_id_id_key") {
		t.Fatalf("the generic plan of the conversation key check:\n%s\nwant an index scan of conversations_account_id_id_key", plan.String())
	}
}

// newAccount creates an account in s and returns its id.
func newAccount(t *testing.T, s *sqlstore.Store) string {
	t.Helper()
	a := &sb.Account{Name: "a"}
	if err := s.Update(t.Context(), "", func(tx sb.Tx) error { return tx.CreateAccount(t.Context(), a) }); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// connect opens a pgx connection of the test's own.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
