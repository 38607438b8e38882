package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/demo"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

func newService(t *testing.T) *app.Service {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "demo.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.New(app.Config{Store: store, PasswordParams: &app.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	svc.Start(ctx)
	t.Cleanup(func() {
		svc.Close()
		store.Close()
	})
	return svc
}

// TestFill checks the demo account API.md promises and that a second Fill
// leaves it alone.
func TestFill(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	info, err := demo.Fill(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created || !info.LoginWorks || info.Conversations != 8 {
		t.Fatalf("Fill = %+v, want created, login working, 8 conversations", info)
	}

	token, _, err := svc.Login(ctx, app.LoginInput{Email: demo.AdminEmail, Password: demo.AdminPassword})
	if err != nil {
		t.Fatalf("the demo login does not work: %v", err)
	}
	a, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}

	users, err := svc.ListUsers(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var seated, unseated, capped int
	for _, u := range users {
		if u.Role != sb.RoleAgent {
			continue
		}
		if u.PaidSeat {
			seated++
		} else {
			unseated++
		}
		if u.ChatCapacity > 0 {
			capped++
		}
	}
	if seated != 3 || unseated != 1 || capped != 1 {
		t.Errorf("agents: %d seated, %d without a seat, %d with a chat capacity; want 3, 1, 1", seated, unseated, capped)
	}
	if teams, err := svc.ListTeams(ctx, a); err != nil || len(teams) != 2 {
		t.Errorf("teams: %d (%v), want 2", len(teams), err)
	}

	chans, err := svc.ListChannels(ctx, a, "")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[sb.ChannelKind]*app.ChannelView{}
	for _, c := range chans {
		kinds[c.Kind] = c
		if !c.Routing.Enabled {
			t.Errorf("channel %s has routing off", c.Name)
		}
	}
	for kind, mode := range map[sb.ChannelKind]string{
		sb.KindEmail: sb.ModeSpecific, sb.KindChat: sb.ModeSpecific, sb.KindForm: sb.ModeContactOwner, sb.KindMessenger: sb.ModeSpecific,
	} {
		if c := kinds[kind]; c == nil || c.Routing.Mode != mode {
			t.Errorf("the %s channel is missing or does not route %s", kind, mode)
		}
	}
	if f := kinds[sb.KindForm]; f != nil && f.Routing.Fallback.Mode != sb.FallbackSpecific {
		t.Errorf("the form channel's fallback is %q, want specific", f.Routing.Fallback.Mode)
	}

	contacts, err := svc.ListContacts(ctx, a, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	owned := 0
	for _, c := range contacts.Items {
		if c.OwnerID != "" {
			owned++
		}
	}
	if owned < 4 {
		t.Errorf("%d contacts have an owner, want at least 4", owned)
	}

	open, err := svc.ListConversations(ctx, a, app.ListQuery{View: app.ViewOpen, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(open.Items) != 8 {
		t.Errorf("%d open conversations, want 8", len(open.Items))
	}
	for _, c := range open.Items {
		if c.AssigneeID == "" {
			t.Errorf("demo conversation %s on %s was not routed", c.ID, c.ChannelKind)
		}
	}

	again, err := demo.Fill(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || !again.LoginWorks || again.Channels[sb.KindChat] != info.Channels[sb.KindChat] {
		t.Errorf("a second Fill = %+v, want nothing created and the same chat channel %s", again, info.Channels[sb.KindChat])
	}
}
