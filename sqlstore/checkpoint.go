package sqlstore

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointEvery is how often the background checkpointer copies the WAL
// into the database file.
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs SQLite's WAL checkpoints on its own connection, beside
// the writer. With SQLite's default (a checkpoint every 1,000 pages, run by
// whichever commit crosses the mark) the one writer — and so every routing
// transaction waiting behind it — paid for the copying; here it runs on the
// other core. PASSIVE checkpoints never block the writer or readers.
type checkpointer struct {
	db     *sql.DB
	logger *slog.Logger
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

func startCheckpointer(path string, logger *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, logger: logger, stop: cancel}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
					logger.Warn("WAL checkpoint failed", "err", err)
				}
			}
		}
	}()
	return c, nil
}

// close stops the checkpointer after a last full checkpoint that empties
// the WAL.
func (c *checkpointer) close() error {
	c.stop()
	c.wg.Wait()
	if _, err := c.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		c.logger.Warn("final WAL checkpoint failed", "err", err)
	}
	return c.db.Close()
}
