package sqlstore_test

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/storetest"
)

// testLogger logs through t, so a failing test shows the store's warnings.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// open opens dsn for the test and closes the store when it ends.
func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, testLogger(t))
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func sqliteDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "switchboard.db")
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sb.Store { return open(t, sqliteDSN(t)) })
}

func TestPostgres(t *testing.T) {
	pgtest.DSN(t) // skips the whole test when PostgreSQL is not reachable
	storetest.Run(t, func(t *testing.T) sb.Store { return open(t, pgtest.DSN(t)) })
}

// smallChunks is the parameter limit of TestSQLiteSmallChunks and
// TestPostgresSmallChunks: a bulk statement then takes 2 to 9 rows, so
// that the suite's 250-row calls run in dozens of chunks.
const smallChunks = 70

func TestSQLiteSmallChunks(t *testing.T) {
	storetest.RunBulk(t, func(t *testing.T) sb.Store {
		s := open(t, sqliteDSN(t))
		sqlstore.SetMaxParams(s, smallChunks)
		return s
	})
}

func TestPostgresSmallChunks(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunBulk(t, func(t *testing.T) sb.Store {
		s := open(t, pgtest.DSN(t))
		sqlstore.SetMaxParams(s, smallChunks)
		return s
	})
}

// TestPostgresGenericPlans: the bulk tests again, with CommitBatch
// planning every foreign-key check generically, as it does once the keyed
// tables have statistics (pgstats.go).
func TestPostgresGenericPlans(t *testing.T) {
	pgtest.DSN(t)
	storetest.RunBulk(t, func(t *testing.T) sb.Store {
		s := open(t, pgtest.DSN(t))
		sqlstore.SetStatsReady(s)
		return s
	})
}

func TestDialect(t *testing.T) {
	if d := open(t, sqliteDSN(t)).Dialect(); d != sqlstore.SQLite {
		t.Errorf("Dialect() = %q, want %q", d, sqlstore.SQLite)
	}
	if d := open(t, pgtest.DSN(t)).Dialect(); d != sqlstore.Postgres {
		t.Errorf("Dialect() = %q, want %q", d, sqlstore.Postgres)
	}
}

// TestPostgresCrossProcessR_X7 proves R-X7 across processes: two Stores
// opened separately on one database (as two `switchboard serve` would be)
// serialise Update for an account through the database, and an event
// committed through one reaches subscribers of both, once each.
func TestPostgresCrossProcessR_X7(t *testing.T) {
	dsn := pgtest.DSN(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	testCrossStore(t, s1, s2, true)
}

// TestSQLiteTwoStoresSerialise: two Stores on one SQLite file (two
// processes) serialise Update too, through BEGIN IMMEDIATE and the busy
// timeout. (Events stay within a process on SQLite.)
func TestSQLiteTwoStoresSerialise(t *testing.T) {
	dsn := sqliteDSN(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	testCrossStore(t, s1, s2, false)
}

func testCrossStore(t *testing.T, s1, s2 *sqlstore.Store, events bool) {
	ctx := t.Context()
	acct := &sb.Account{Name: "a"}
	team := &sb.Team{Name: "0"}
	must(t, s1.Update(ctx, "", func(tx sb.Tx) error {
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		team.AccountID = acct.ID
		return tx.CreateTeam(ctx, team)
	}))
	a := acct.ID

	if events {
		sub1, sub2 := s1.Subscribe(ctx, a), s2.Subscribe(ctx, a)
		e := &sb.Event{AccountID: a, Type: "hello", Data: []byte(`{"from":1}`)}
		must(t, s1.Update(ctx, a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, e) }))
		for i, sub := range []<-chan sb.Event{sub1, sub2} {
			select {
			case got := <-sub:
				if got.ID != e.ID || got.Type != "hello" || string(got.Data) != `{"from":1}` {
					t.Errorf("store %d's subscriber got %+v, want event %d", i+1, got, e.ID)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("store %d's subscriber got no event", i+1)
			}
		}
		// A second event: if the first were delivered twice, it would come
		// before this one.
		e2 := &sb.Event{AccountID: a, Type: "again"}
		must(t, s2.Update(ctx, a, func(tx sb.Tx) error { return tx.AppendEvent(ctx, e2) }))
		for i, sub := range []<-chan sb.Event{sub1, sub2} {
			select {
			case got := <-sub:
				if got.ID != e2.ID {
					t.Errorf("store %d's subscriber got event %d next, want %d once", i+1, got.ID, e2.ID)
				}
			case <-time.After(15 * time.Second):
				t.Fatalf("store %d's subscriber got no second event", i+1)
			}
		}
	}

	const goroutines, updates = 16, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		s := s1
		if g%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			for range updates {
				err := s.Update(ctx, a, func(tx sb.Tx) error {
					tm, err := tx.Team(ctx, a, team.ID)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(tm.Name)
					if err != nil {
						return err
					}
					time.Sleep(50 * time.Microsecond) // widen the window a missing lock would leave
					tm.Name = strconv.Itoa(n + 1)
					return tx.UpdateTeam(ctx, tm)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	must(t, s2.View(ctx, func(tx sb.Tx) error {
		tm, err := tx.Team(ctx, a, team.ID)
		if err != nil {
			return err
		}
		if want := strconv.Itoa(goroutines * updates); tm.Name != want {
			t.Errorf("counter = %s, want %s: two stores do not serialise the account's Updates", tm.Name, want)
		}
		return nil
	}))
}

func TestOpenErrors(t *testing.T) {
	ctx := t.Context()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	cases := []struct {
		name, dsn string
		kind      sb.Kind
		mention   string // the error names the database
	}{
		{"unknown scheme", "mysql://u:secret@localhost/db", sb.Invalid, "localhost"},
		{"empty sqlite path", "sqlite:", sb.Invalid, "sqlite:"},
		{"in-memory sqlite", "sqlite::memory:", sb.Invalid, "memory"},
		{"sqlite in a missing directory", "sqlite:" + missing, sb.Unavailable, missing},
		{"postgres nobody listens to", "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
			sb.Unavailable, "127.0.0.1:1/db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := sqlstore.Open(ctx, c.dsn, nil)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded, want a %v error", c.kind)
			}
			if !sb.IsKind(err, c.kind) {
				t.Errorf("Open: %v (kind %v), want kind %v", err, sb.KindOf(err), c.kind)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open's error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("Open's error does not name the database (%s): %v", c.mention, err)
			}
		})
	}
}

// TestMigrate: Migrate applies the schema once; running it again and then
// opening finds nothing to do.
func TestMigrate(t *testing.T) {
	ctx := t.Context()
	dsn := sqliteDSN(t)
	for range 2 {
		if err := sqlstore.Migrate(ctx, dsn, nil); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	s := open(t, dsn)
	must(t, s.View(ctx, func(tx sb.Tx) error {
		n, err := tx.CountAccounts(ctx)
		if err == nil && n != 0 {
			t.Errorf("CountAccounts = %d on a new database", n)
		}
		return err
	}))
}

// TestUpdateAfterClose: a closed Store refuses work with an error and its
// subscriptions are closed.
func TestUpdateAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, sqliteDSN(t), nil)
	must(t, err)
	sub := s.Subscribe(ctx, "a")
	must(t, s.Close())
	must(t, s.Close()) // twice is fine
	if _, ok := <-sub; ok {
		t.Errorf("subscription still open after Close")
	}
	if err := s.Update(ctx, "", func(sb.Tx) error { return nil }); err == nil {
		t.Errorf("Update after Close succeeded")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestPostgresListenerReconnects: when the listener's connection dies,
// it reconnects and events flow again.
func TestPostgresListenerReconnects(t *testing.T) {
	dsn := pgtest.DSN(t)
	s := open(t, dsn)
	ctx := t.Context()
	acct := &sb.Account{Name: "a"}
	must(t, s.Update(ctx, "", func(tx sb.Tx) error { return tx.CreateAccount(ctx, acct) }))
	sub := s.Subscribe(ctx, acct.ID)

	admin, err := sql.Open("pgx", dsn)
	must(t, err)
	defer admin.Close()
	var n int
	must(t, admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`).Scan(&n))
	if n != 1 {
		t.Fatalf("terminated %d listener connections, want 1", n)
	}

	// Until the listener is back, events are missed; keep committing until
	// one arrives.
	deadline := time.Now().Add(15 * time.Second)
	for {
		e := &sb.Event{AccountID: acct.ID, Type: "ping"}
		must(t, s.Update(ctx, acct.ID, func(tx sb.Tx) error { return tx.AppendEvent(ctx, e) }))
		select {
		case got := <-sub:
			if got.Type != "ping" {
				t.Errorf("got %+v, want a ping", got)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event after the listener's connection was terminated")
		}
	}
}
