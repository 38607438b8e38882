package sqlstore

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

func openSQLiteTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "switchboard.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sqlitePlan returns SQLite's query plan of q, with its n parameters
// bound to an empty JSON list, one step a line.
func sqlitePlan(t *testing.T, s *Store, q *query, n int) string {
	t.Helper()
	args := make([]any, n)
	for i := range args {
		args[i] = "[]"
	}
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q.sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", q.name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q.name, err)
	}
	return strings.Join(plan, "\n")
}

// TestBulkLookupPlans: SQLite answers the bulk lookups by probing the
// indexes of their one-row twins once per key, never by scanning a table
// or an account's rows; the bulk updates find their rows by primary key.
func TestBulkLookupPlans(t *testing.T) {
	s := openSQLiteTest(t)
	cases := []struct {
		q    *query
		want []string // each must appear in the plan
	}{
		{qContactsByKeys.sqlite, []string{"contacts_account_email (account_id=? AND email=?)",
			"contacts_account_visitor_token (account_id=? AND visitor_token=?)",
			"contacts_account_phone (account_id=? AND phone=?)"}},
		{qMessagesByExternalIDs.sqlite, []string{"messages_channel_external_id (channel_id=? AND external_id=?)"}},
		{qConversationsByIDs.sqlite, []string{"(account_id=? AND id=?)"}},
		{qLatestConversations.sqlite, []string{"(account_id=? AND id=?)",
			"conversations_contact_channel (account_id=? AND contact_id=? AND channel_id=?)"}},
		{mUpdateConversation.query(SQLite, 3), []string{"conversations USING COVERING INDEX sqlite_autoindex_conversations_2 (account_id=? AND id=?)"}},
		{mAddLoads.query(SQLite, 3), []string{"users USING INDEX sqlite_autoindex_users_3 (account_id=? AND id=?)"}},
	}
	// A SCAN of anything but the key list (json_each, the VALUES rows).
	badScan := regexp.MustCompile(`SCAN (contacts|messages|conversations|users)\b`)
	for _, c := range cases {
		n := strings.Count(c.q.sql, "?")
		for _, m := range regexp.MustCompile(`\$(\d+)`).FindAllStringSubmatch(c.q.sql, -1) {
			k, _ := strconv.Atoi(m[1])
			n = max(n, k)
		}
		all := sqlitePlan(t, s, c.q, n)
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: plan does not use %s:\n%s", c.q.name, w, all)
			}
		}
		if badScan.MatchString(all) {
			t.Errorf("%s: plan scans a table:\n%s", c.q.name, all)
		}
	}
}

// bulkWorld is an account with a user, an inbox, a channel, a contact and
// a conversation.
type bulkWorld struct {
	a, user, inbox, channel, contact string
	conv                             *sb.Conversation
}

func newBulkWorld(t *testing.T, s *Store) *bulkWorld {
	ctx := t.Context()
	w := &bulkWorld{}
	err := s.Update(ctx, "", func(tx sb.Tx) error {
		acct := &sb.Account{Name: "a"}
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		w.a = acct.ID
		u := &sb.User{AccountID: w.a, Email: "u@example.com"}
		in := &sb.Inbox{AccountID: w.a}
		if err := firstErr(tx.CreateUser(ctx, u), tx.CreateInbox(ctx, in)); err != nil {
			return err
		}
		ch := &sb.Channel{AccountID: w.a, InboxID: in.ID}
		ct := &sb.Contact{AccountID: w.a}
		if err := firstErr(tx.CreateChannel(ctx, ch), tx.CreateContact(ctx, ct)); err != nil {
			return err
		}
		w.user, w.inbox, w.channel, w.contact = u.ID, in.ID, ch.ID, ct.ID
		w.conv = &sb.Conversation{AccountID: w.a, InboxID: in.ID, ChannelID: ch.ID, ContactID: ct.ID, Status: sb.StatusOpen}
		return tx.CreateConversation(ctx, w.conv)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *bulkWorld) messages(n int, prefix string) []*sb.Message {
	ms := make([]*sb.Message, n)
	for i := range ms {
		ms[i] = &sb.Message{AccountID: w.a, ConversationID: w.conv.ID, ChannelID: w.channel,
			ExternalID: prefix + strconv.Itoa(i)}
	}
	return ms
}

// TestBulkChunksAllOrNothing: on SQLite, where a transaction goes on after
// a failed statement, a call that fails in its last chunk leaves nothing
// of its earlier chunks, even seen from within the transaction.
func TestBulkChunksAllOrNothing(t *testing.T) {
	s := openSQLiteTest(t)
	s.maxParams = 30 // three messages a statement
	w := newBulkWorld(t, s)
	ctx := t.Context()
	ms := w.messages(20, "x")
	ms[19].ExternalID = ms[0].ExternalID
	keys := make([]sb.ExternalKey, len(ms))
	for i, m := range ms {
		keys[i] = sb.ExternalKey{ChannelID: m.ChannelID, ExternalID: m.ExternalID}
	}
	err := s.Update(ctx, w.a, func(tx sb.Tx) error {
		if err := tx.CreateMessages(ctx, ms); !sb.IsKind(err, sb.Conflict) {
			t.Errorf("CreateMessages with a duplicate in its last chunk: %v, want Conflict", err)
		}
		got, err := tx.MessagesByExternalIDs(ctx, w.a, keys)
		if err != nil {
			return err
		}
		if len(got) != 0 {
			t.Errorf("%d messages of the failed call seen in its transaction, want none", len(got))
		}
		// Later statements still work (the savepoint was released).
		return tx.CreateMessages(ctx, w.messages(7, "y"))
	})
	if !sb.IsKind(err, sb.Conflict) {
		t.Errorf("Update: %v, want the Conflict that doomed it", err)
	}
}

// TestBulkUpdateDooms: a bulk update that changed some rows but not a
// missing one dooms the transaction, so that it never commits half-done;
// one that changed nothing (as a one-row update of a missing row) does
// not.
func TestBulkUpdateDooms(t *testing.T) {
	s := openSQLiteTest(t)
	w := newBulkWorld(t, s)
	ctx := t.Context()
	missing := *w.conv
	missing.ID = "missing"
	other := *w.conv
	other.ID = "other"
	cases := []struct {
		name   string
		fn     func(tx sb.Tx) error
		doomed bool
	}{
		{"UpdateConversations, one missing", func(tx sb.Tx) error {
			return tx.UpdateConversations(ctx, []*sb.Conversation{w.conv, &missing})
		}, true},
		{"UpdateConversations, all missing", func(tx sb.Tx) error {
			return tx.UpdateConversations(ctx, []*sb.Conversation{&missing, &other})
		}, false},
		{"UpdateConversation, missing", func(tx sb.Tx) error { return tx.UpdateConversation(ctx, &missing) }, false},
		{"AddLoads, one missing", func(tx sb.Tx) error {
			return tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: w.user, Delta: 1}, {UserID: "missing", Delta: 1}})
		}, true},
		{"AddLoads, all missing", func(tx sb.Tx) error {
			return tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: "x", Delta: 1}, {UserID: "y", Delta: 1}})
		}, false},
	}
	for _, c := range cases {
		err := s.Update(ctx, w.a, func(tx sb.Tx) error {
			if err := c.fn(tx); !sb.IsKind(err, sb.NotFound) {
				t.Errorf("%s: %v, want NotFound", c.name, err)
			}
			return nil // ignores the error
		})
		if doomed := err != nil; doomed != c.doomed || (doomed && !sb.IsKind(err, sb.NotFound)) {
			t.Errorf("%s: Update returned %v; want doomed=%v", c.name, err, c.doomed)
		}
	}
}

// TestBulkUpdateDuplicates: a conversation given twice to
// UpdateConversations gets its last version, and a user given twice to
// AddLoads gets both deltas, as if the rows were written one by one.
func TestBulkUpdateDuplicates(t *testing.T) {
	s := openSQLiteTest(t)
	w := newBulkWorld(t, s)
	ctx := t.Context()
	first, second := *w.conv, *w.conv
	first.Subject, second.Subject = "first", "second"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := s.Update(ctx, w.a, func(tx sb.Tx) error {
		return firstErr(
			tx.UpdateConversations(ctx, []*sb.Conversation{&first, &second}),
			tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: w.user, Delta: 2, AssignedAt: at}, {UserID: w.user, Delta: 3}}))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx sb.Tx) error {
		c, err := tx.Conversation(ctx, w.a, w.conv.ID)
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, w.a, w.user)
		if err != nil {
			return err
		}
		if c.Subject != "second" || u.OpenChats != 5 || !u.LastChatAssignedAt.Equal(at) {
			t.Errorf("subject %q, open chats %d, last assigned %v; want second, 5, %v", c.Subject, u.OpenChats, u.LastChatAssignedAt, at)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAddLoadsChunks: a zero AssignedAt leaves LastChatAssignedAt alone
// in every form of the statement: one row (a call of one, a last chunk of
// one, duplicates merged into one) or many.
func TestAddLoadsChunks(t *testing.T) {
	s := openSQLiteTest(t)
	s.maxParams = 8 // two rows a statement
	w := newBulkWorld(t, s)
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	users := []string{w.user}
	err := s.Update(ctx, w.a, func(tx sb.Tx) error {
		for i := range 2 {
			u := &sb.User{AccountID: w.a, Email: "u" + strconv.Itoa(i) + "@example.com"}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			users = append(users, u.ID)
		}
		if err := tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: users[0], Delta: 1, AssignedAt: at},
			{UserID: users[1], Delta: 1, AssignedAt: at}, {UserID: users[2], Delta: 1, AssignedAt: at}}); err != nil {
			return err
		}
		return firstErr(
			tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: users[0], Delta: 1}, {UserID: users[1], Delta: 1}, {UserID: users[2], Delta: 1}}),
			tx.AddLoads(ctx, w.a, []sb.LoadDelta{{UserID: users[0], Delta: 1}, {UserID: users[0], Delta: 1}}),
			tx.AddLoad(ctx, w.a, users[1], 1, time.Time{}))
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx sb.Tx) error {
		for i, id := range users {
			u, err := tx.User(ctx, w.a, id)
			if err != nil {
				return err
			}
			if want := []int{4, 3, 2}[i]; u.OpenChats != want || !u.LastChatAssignedAt.Equal(at) {
				t.Errorf("user %d: open chats %d, last assigned %v; want %d, %v", i, u.OpenChats, u.LastChatAssignedAt, want, at)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBulkPreparesMulti: on SQLite, a multi-row statement runs parsed the
// first time, then prepared; large ones stay unprepared.
func TestBulkPreparesMulti(t *testing.T) {
	s := openSQLiteTest(t)
	w := newBulkWorld(t, s)
	ctx := t.Context()
	for i := range 2 {
		err := s.Update(ctx, w.a, func(tx sb.Tx) error {
			return tx.CreateMessages(ctx, w.messages(5, "m"+strconv.Itoa(i)+"-"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.multiStmts[mCreateMessage.query(SQLite, 5)] != nil; !got {
			t.Fatalf("after Update %d: the 5-row insert is not prepared", i)
		}
	}
	err := s.Update(ctx, w.a, func(tx sb.Tx) error {
		return tx.CreateMessages(ctx, w.messages(maxPreparedRows+1, "large"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.multiStmts) != 1 || s.multiRows != 5 {
		t.Errorf("%d statements of %d rows prepared, want 1 of 5", len(s.multiStmts), s.multiRows)
	}
}

// TestMultiQuerySQL: the generated statements, for one and several rows,
// on each dialect.
func TestMultiQuerySQL(t *testing.T) {
	m := &multiQuery{name: "x", head: "INSERT INTO t (a, b) VALUES ", tail: " RETURNING id", cols: 2}
	for _, c := range []struct {
		dialect string
		n       int
		want    string
	}{
		{Postgres, 1, "INSERT INTO t (a, b) VALUES ($1, $2) RETURNING id"},
		{Postgres, 3, "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING id"},
		{SQLite, 3, "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) RETURNING id"},
	} {
		if got := m.build(c.dialect, c.n); got != c.want {
			t.Errorf("build(%s, %d) = %q, want %q", c.dialect, c.n, got, c.want)
		}
	}
	m.casts = []string{"text", "bigint"}
	if got, want := m.build(Postgres, 2), "INSERT INTO t (a, b) VALUES (CAST($1 AS text), CAST($2 AS bigint)), ($3, $4) RETURNING id"; got != want {
		t.Errorf("build with casts = %q, want %q", got, want)
	}
	if q1, q2 := mCreateMessage.query(SQLite, 7), mCreateMessage.query(SQLite, 7); q1 != q2 {
		t.Errorf("the 7-row statement is built twice")
	}
	if q := mCreateMessage.query(Postgres, 1); q != mCreateMessage.one {
		t.Errorf("the one-row statement is not the named query")
	}
}

// TestDecisionsStoredOnceAPool: the decisions of one batch over one large
// pool store its candidates once; the others store their changes (the
// conformance suite's Bulk/DecisionsOfOnePool proves they read back whole).
func TestDecisionsStoredOnceAPool(t *testing.T) {
	s := openSQLiteTest(t)
	w := newBulkWorld(t, s)
	ctx := t.Context()
	pool := make([]sb.Candidate, 200)
	for i := range pool {
		pool[i] = sb.Candidate{UserID: "user-" + strconv.Itoa(i) + "-0000-0000-0000-000000000000", Via: "team:t", Status: sb.Available, Capacity: 5}
	}
	ds := make([]*sb.Decision, 10)
	for i := range ds {
		cs := append([]sb.Candidate(nil), pool...)
		for j := range i { // the batch's earlier assignments
			cs[j].Load++
		}
		ds[i] = &sb.Decision{AccountID: w.a, ConversationID: w.conv.ID, Outcome: sb.OutcomeAssigned, Candidates: cs}
	}
	if err := s.Update(ctx, w.a, func(tx sb.Tx) error { return tx.CreateDecisions(ctx, ds) }); err != nil {
		t.Fatal(err)
	}
	var over, bytes, whole int
	whole = len(sb.Candidates(pool).AppendCompact(nil))
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE base_id <> ''), SUM(LENGTH(candidates)) FROM decisions`).Scan(&over, &bytes); err != nil {
		t.Fatal(err)
	}
	if over != len(ds)-1 || bytes > whole*3/2 {
		t.Fatalf("%d of %d decisions stored over the first, %d bytes in all; want %d, at most %d bytes (one pool of %d)",
			over, len(ds), bytes, len(ds)-1, whole*3/2, whole)
	}
}
