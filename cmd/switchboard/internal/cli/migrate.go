package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/sqlstore"
)

// migrate applies pending migrations and reports what it did.
func (m *Main) migrate(ctx context.Context, cfg *Config) error {
	rec := &migrationRecorder{Handler: m.newLogger(cfg).Handler()}
	start := time.Now()
	if err := sqlstore.Migrate(ctx, cfg.DB, slog.New(rec)); err != nil {
		return fmt.Errorf("cannot migrate the database: %s", describe(err))
	}
	took := time.Since(start).Round(time.Millisecond)
	if files := rec.applied(); len(files) > 0 {
		fmt.Fprintf(m.Stdout, "switchboard migrate: applied %d migration(s) to %s in %s: %s; it is at the latest schema now\n",
			len(files), redact(cfg.DB), took, strings.Join(files, ", "))
	} else {
		fmt.Fprintf(m.Stdout, "switchboard migrate: %s is at the latest schema already; nothing to do\n", redact(cfg.DB))
	}
	return nil
}

// migrationRecorder passes log records on and notes the files of those
// that report an applied migration (records with a "file" and a "version"
// attribute, as sqlstore logs them).
type migrationRecorder struct {
	slog.Handler
	mu    *sync.Mutex
	files *[]string
}

func (r *migrationRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.init()
	var file string
	var version bool
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "file":
			file = a.Value.String()
		case "version":
			version = true
		}
		return true
	})
	if file != "" && version {
		r.mu.Lock()
		*r.files = append(*r.files, file)
		r.mu.Unlock()
	}
	return r.Handler.Handle(ctx, rec)
}

func (r *migrationRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.init()
	return &migrationRecorder{Handler: r.Handler.WithAttrs(as), mu: r.mu, files: r.files}
}

func (r *migrationRecorder) WithGroup(name string) slog.Handler {
	r.init()
	return &migrationRecorder{Handler: r.Handler.WithGroup(name), mu: r.mu, files: r.files}
}

func (r *migrationRecorder) init() {
	if r.mu == nil {
		r.mu, r.files = &sync.Mutex{}, new([]string)
	}
}

func (r *migrationRecorder) applied() []string {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), *r.files...)
}

// redact hides a password in a database URL.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return dsn[:scheme+3] + user + ":xxxxx" + dsn[at:]
	}
	return dsn
}
