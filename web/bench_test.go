package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/httpapi"
	"github.com/switchboard-dev/switchboard/sqlstore"
	"github.com/switchboard-dev/switchboard/web"
)

// benchConversations is how many conversations BenchmarkInboxView seeds.
const benchConversations = 100_000

// BenchmarkInboxView renders a view of 50 conversations (GET /app, the
// whole page: views with counts, list, contacts) for an agent, with
// 100,000 conversations in a SQLite database: 20% open (half of them
// unassigned), 80% closed, over 3 inboxes, 20 agents and 10,000 contacts.
// It reports the median and the 95th percentile per view.
//
//	go test ./web -run '^$' -bench InboxView -benchtime 200x
func BenchmarkInboxView(b *testing.B) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := app.New(app.Config{Store: st, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	defer svc.Close()
	seedStart := time.Now()
	team, conv := seed(b, ctx, svc, st)
	b.Logf("seeded %d conversations in %s", benchConversations, time.Since(seedStart).Round(time.Millisecond))
	token, _, err := svc.Login(ctx, app.LoginInput{Email: "agent0@bench.test", Password: "bench password"})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	web.New(web.Config{App: svc}).Mount(mux)
	for _, v := range []struct{ name, view string }{
		{"unassigned", "unassigned"}, {"mine", "mine"}, {"open", "open"}, {"closed", "closed"}, {"team", "open&team=" + team},
		{"unassigned+conversation", "unassigned&c=" + conv}, // the list plus a thread of 30 messages
	} {
		view := v.view
		b.Run(v.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				req := httptest.NewRequest("GET", "/app?view="+view, nil)
				req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: token})
				rec := httptest.NewRecorder()
				start := time.Now()
				mux.ServeHTTP(rec, req)
				took = append(took, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET /app?view=%s: %d %s", view, rec.Code, rec.Body.String())
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "ms-p95")
		})
	}
}

// seed fills the account with agents, teams, inboxes, channels, contacts
// and conversations, the bulk of it with the store's bulk methods.
func seed(b *testing.B, ctx context.Context, svc *app.Service, st sb.Store) (teamID, convID string) {
	b.Helper()
	res, err := svc.Setup(ctx, app.SetupInput{AccountName: "Bench", AdminEmail: "admin@bench.test", AdminName: "Admin", Password: "bench password"})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, res.Token)
	if err != nil {
		b.Fatal(err)
	}
	acct := res.Account.ID
	var agents []string
	for i := range 20 {
		u, err := svc.CreateUser(ctx, admin, app.UserInput{Email: fmt.Sprintf("agent%d@bench.test", i), Name: fmt.Sprintf("Agent %d", i), Role: sb.RoleAgent, PaidSeat: true, Password: "bench password"})
		if err != nil {
			b.Fatal(err)
		}
		agents = append(agents, u.ID)
	}
	var teams []string
	for i := range 3 {
		t, err := svc.CreateTeam(ctx, admin, app.TeamInput{Name: fmt.Sprintf("Team %d", i), MainMemberIDs: agents[i*6 : i*6+6]})
		if err != nil {
			b.Fatal(err)
		}
		teams = append(teams, t.ID)
	}
	var chans []*app.ChannelView
	for i, k := range []sb.ChannelKind{sb.KindEmail, sb.KindChat, sb.KindForm} {
		c, err := svc.CreateChannel(ctx, admin, "", app.ChannelInput{Kind: k, Name: string(k), NewInbox: &app.InboxInput{Name: fmt.Sprintf("Inbox %d", i)}})
		if err != nil {
			b.Fatal(err)
		}
		chans = append(chans, c)
	}
	const contacts = 10_000
	now := time.Now().UTC().Truncate(time.Microsecond)
	var cts []*sb.Contact
	err = st.Update(ctx, acct, func(tx sb.Tx) error {
		for i := range contacts {
			cts = append(cts, &sb.Contact{AccountID: acct, Email: fmt.Sprintf("c%d@example.com", i), Name: fmt.Sprintf("Contact %d", i), CreatedAt: now})
		}
		return tx.CreateContacts(ctx, cts)
	})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 10_000
	for start := 0; start < benchConversations; start += chunk {
		cs := make([]*sb.Conversation, 0, chunk)
		for i := start; i < start+chunk; i++ {
			ch := chans[i%len(chans)]
			c := &sb.Conversation{AccountID: acct, InboxID: ch.InboxID, ChannelID: ch.ID, ChannelKind: ch.Kind, ContactID: cts[i%contacts].ID,
				Status: sb.StatusClosed, Preview: fmt.Sprintf("Message number %d about an order", i),
				CreatedAt: now.Add(-time.Duration(benchConversations-i) * time.Minute), LastActivityAt: now.Add(-time.Duration(benchConversations-i) * time.Minute)}
			c.ClosedAt = c.LastActivityAt
			if i%5 == 0 { // 20% open, half of them assigned
				c.Status, c.ClosedAt = sb.StatusOpen, time.Time{}
				if i%10 == 0 {
					c.AssigneeID = agents[(i/10)%len(agents)]
				}
			} else {
				c.AssigneeID = agents[i%len(agents)]
			}
			cs = append(cs, c)
		}
		if err := st.Update(ctx, acct, func(tx sb.Tx) error { return tx.CreateConversations(ctx, cs) }); err != nil {
			b.Fatal(err)
		}
	}
	// One unassigned conversation gets a thread of 30 messages.
	var conv *sb.Conversation
	err = st.View(ctx, func(tx sb.Tx) error {
		cs, err := tx.Conversations(ctx, sb.ConversationFilter{AccountID: acct, Status: sb.StatusOpen, Unassigned: true, Limit: 1})
		if err == nil && len(cs) == 1 {
			conv = cs[0]
		}
		return err
	})
	if err != nil || conv == nil {
		b.Fatalf("no unassigned conversation: %v", err)
	}
	var ms []*sb.Message
	for i := range 30 {
		m := &sb.Message{AccountID: acct, ConversationID: conv.ID, ChannelID: conv.ChannelID, Direction: sb.DirectionIn, ContactID: conv.ContactID,
			Body: fmt.Sprintf("Message %d of the thread, long enough to look like a real one.", i), CreatedAt: now.Add(time.Duration(i) * time.Second)}
		if i%2 == 1 {
			m.Direction, m.ContactID, m.AuthorUserID = sb.DirectionOut, "", agents[0]
		}
		ms = append(ms, m)
	}
	if err := st.Update(ctx, acct, func(tx sb.Tx) error { return tx.CreateMessages(ctx, ms) }); err != nil {
		b.Fatal(err)
	}
	return teams[0], conv.ID
}
