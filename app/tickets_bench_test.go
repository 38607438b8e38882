package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// BenchmarkInboundTickets measures what R-T1's ticket per new conversation
// costs the routing batch: 16 clients deliver b.N messages from distinct
// contacts to an email channel routed at random to 20 agents, with the
// channel's tickets setting off and on. Run it with
//
//	go test ./app -run '^$' -bench InboundTickets -benchtime 2000x -count 5
func BenchmarkInboundTickets(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, tickets := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/tickets=%v", db, tickets), func(b *testing.B) {
				dsn := "sqlite:" + filepath.Join(b.TempDir(), "bench.db")
				if db == "postgres" {
					dsn = pgtest.DSN(b)
				}
				benchInbound(b, dsn, tickets)
			})
		}
	}
}

func benchInbound(b *testing.B, dsn string, tickets bool) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	svc := app.New(app.Config{Store: st, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	defer func() { svc.Close(); st.Close() }()
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Bench", TimeZone: "UTC", AdminEmail: "admin@bench.test", AdminName: "Admin", Password: "correct horse"})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		b.Fatal(err)
	}
	rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific}
	for i := range 20 {
		u, err := svc.CreateUser(ctx, admin, app.UserInput{Email: fmt.Sprintf("a%d@bench.test", i), Name: "A", Role: sb.RoleAgent, PaidSeat: true, Password: "password password"})
		if err != nil {
			b.Fatal(err)
		}
		rule.UserIDs = append(rule.UserIDs, u.ID)
	}
	ch, err := svc.CreateChannel(ctx, admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "mail", Routing: &rule,
		Tickets: &sb.TicketSettings{Enabled: tickets, Pipeline: "Support", Stage: "New"}, NewInbox: &app.InboxInput{Name: "In"}})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				r, err := svc.Inbound(ctx, admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: fmt.Sprintf("c%d@x.test", i)}, Body: "hello"})
				if err != nil {
					b.Error(err)
					return
				}
				if tickets && r.Conversation.TicketID == "" {
					b.Error("no ticket")
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
