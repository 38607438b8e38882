package sqlstore_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// Rule R-F1: channels connected before migration 00005 claim their page
// (or number) when it runs; the oldest channel wins a page two name.
func TestChannelKeysBackfill(t *testing.T) {
	for _, db := range []struct{ name, dsn string }{{"sqlite", ""}, {"postgres", ""}} {
		t.Run(db.name, func(t *testing.T) {
			dsn := sqliteDSN(t)
			if db.name == "postgres" {
				dsn = pgtest.DSN(t)
			}
			s := open(t, dsn)
			raw, err := os.ReadFile("migrations/" + db.name + "/00005_channel_keys.sql")
			if err != nil {
				t.Fatal(err)
			}
			up := string(raw)
			backfill := up[strings.Index(up, "-- Channels connected before"):strings.Index(up, "-- +goose Down")]
			ctx := context.Background()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var chans []*sb.Channel
			if err := s.Update(ctx, "", func(tx sb.Tx) error {
				for i, name := range []string{"a", "b"} {
					a := &sb.Account{Name: name, TimeZone: "UTC", CreatedAt: now}
					if err := tx.CreateAccount(ctx, a); err != nil {
						return err
					}
					in := &sb.Inbox{AccountID: a.ID, Name: "in", CreatedAt: now}
					if err := tx.CreateInbox(ctx, in); err != nil {
						return err
					}
					for _, c := range []*sb.Channel{
						{Kind: sb.KindMessenger, Config: []byte(`{"page_id":"777"}`)},
						{Kind: sb.KindWhatsApp, Config: []byte(`{"phone_number_id":"888` + name + `"}`)},
						{Kind: sb.KindMessenger, Config: []byte(`{}`)},
					} {
						c.AccountID, c.InboxID, c.Name, c.CreatedAt = a.ID, in.ID, name, now.Add(time.Duration(i)*time.Hour)
						if err := tx.CreateChannel(ctx, c); err != nil {
							return err
						}
						chans = append(chans, c)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := sqlstore.ExecRaw(ctx, s, backfill); err != nil {
				t.Fatalf("backfill: %v", err)
			}
			_ = s.View(ctx, func(tx sb.Tx) error {
				if c, err := tx.ChannelByKey(ctx, "messenger:page:777"); err != nil || c.ID != chans[0].ID {
					t.Errorf("page 777 = %v, %v; want the oldest channel %s", c, err, chans[0].ID)
				}
				for i, key := range []string{"whatsapp:phone:888a", "whatsapp:phone:888b"} {
					if c, err := tx.ChannelByKey(ctx, key); err != nil || c.ID != chans[1+3*i].ID {
						t.Errorf("%s = %v, %v", key, c, err)
					}
				}
				return nil
			})
		})
	}
}
