// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// The server is named by SWITCHBOARD_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); the role
// must be allowed to create databases. Once per test process a template
// database is migrated with sqlstore's migrations; it is named after a hash
// of the migration files, so it is built once and reused by later runs and
// by test binaries running in parallel until the migrations change. Each
// DSN call then copies it (CREATE DATABASE … TEMPLATE), which takes
// milliseconds, and drops the copy when the test ends.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/switchboard-dev/switchboard/sqlstore"
)

// EnvServer names the environment variable with the server's URL.
const EnvServer = "SWITCHBOARD_TEST_POSTGRES"

// DefaultServer is used when EnvServer is empty.
const DefaultServer = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// connectTimeout bounds the first contact with the server.
const connectTimeout = 5 * time.Second

// server is the per-process state: the admin pool and the template, set up
// once.
var server struct {
	once     sync.Once
	base     *url.URL
	admin    *sql.DB
	template string
	// unreachable is set when the server did not answer: tests skip (or
	// fail under CI). err is any other set-up failure: tests fail.
	unreachable error
	err         error
}

var seq atomic.Uint64

// DSN returns the URL of a fresh PostgreSQL database, with the schema of
// sqlstore's migrations, that is dropped when t ends.
//
// If the server cannot be reached the test is skipped, or fails when the
// environment has CI=true, so that CI never passes by skipping.
func DSN(t testing.TB) string {
	t.Helper()
	server.once.Do(setUp)
	if err := server.unreachable; err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not reachable at %s (CI=true, so this fails instead of skipping): %v", server.base.Redacted(), err)
		}
		t.Skipf("PostgreSQL not reachable at %s: %v; set %s or start it", server.base.Redacted(), err, EnvServer)
	}
	if server.err != nil {
		t.Fatalf("pgtest: %v", server.err)
	}

	name := fmt.Sprintf("%s_%d_%d_%d", server.template, os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := server.admin.ExecContext(ctx, "CREATE DATABASE "+quote(name)+" TEMPLATE "+quote(server.template)); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections a test left open (PostgreSQL 13+).
		if _, err := server.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quote(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(server.base, name)
}

// setUp connects to the server and makes sure the template exists.
func setUp() {
	raw := os.Getenv(EnvServer)
	if raw == "" {
		raw = DefaultServer
	}
	base, err := url.Parse(raw)
	if err != nil {
		server.base = &url.URL{Scheme: "postgres", Host: "?"}
		server.err = fmt.Errorf("%s is not a URL: %w", EnvServer, err)
		return
	}
	server.base = base
	admin, err := sql.Open("pgx", raw)
	if err != nil {
		server.err = err
		return
	}
	admin.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		server.unreachable = err
		return
	}
	server.admin = admin
	server.template, server.err = ensureTemplate(base, admin)
}

// ensureTemplate creates and migrates the template database unless a
// complete one exists. A template is complete once it is marked
// IS_TEMPLATE, the last step; an incomplete one (a crashed run) is rebuilt.
// An advisory lock keeps test binaries running in parallel from racing.
func ensureTemplate(base *url.URL, admin *sql.DB) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "switchboard_tpl_" + sum[:16]

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := admin.Conn(ctx) // the session lock lives on one connection
	if err != nil {
		return "", err
	}
	defer conn.Close()
	key := lockKey(name)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return "", fmt.Errorf("lock template %s: %w", name, err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)

	var complete bool
	err = conn.QueryRowContext(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&complete)
	switch {
	case err == nil && complete:
		return name, nil
	case err == nil: // left incomplete
		if _, err := conn.ExecContext(ctx, "DROP DATABASE "+quote(name)+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("drop incomplete template %s: %w", name, err)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+quote(name)); err != nil {
		return "", fmt.Errorf("create template %s: %w", name, err)
	}
	if err := sqlstore.Migrate(ctx, withDatabase(base, name), nil); err != nil {
		return "", fmt.Errorf("migrate template %s: %w", name, err)
	}
	// No connections to the template from now on: CREATE DATABASE …
	// TEMPLATE refuses to copy a database others are connected to.
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+quote(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", fmt.Errorf("mark template %s: %w", name, err)
	}
	return name, nil
}

// migrationsHash is the SHA-256 of sqlstore's PostgreSQL migrations (their
// names and contents, in order), in hex.
func migrationsHash() (string, error) {
	fsys := sqlstore.Migrations(sqlstore.Postgres)
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lockKey is the advisory lock key guarding a template's creation.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("switchboard/pgtest:" + name))
	return int64(h.Sum64())
}

// withDatabase returns base's URL naming database name instead.
func withDatabase(base *url.URL, name string) string {
	u := *base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// quote quotes a PostgreSQL identifier.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// ForEachDB runs fn in two parallel subtests, "sqlite" on a fresh SQLite
// file and "postgres" on a fresh database from DSN (skipped without a
// server, failing under CI=true), so that a scenario proves both stores.
func ForEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, DSN(t))
	})
}
