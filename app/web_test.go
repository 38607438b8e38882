package app_test

import (
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Rule R-I4: the Assignee menu offers only users and teams with access to
// the conversation's inbox; R-M2/R-M4: only the assignee and admins may
// give it to others.
func TestAssignOptionsR_I4(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob, cid := e.agent("ann", 0), e.agent("bob", 0), e.agent("cid", 0)
		support := must(e.svc.CreateTeam(e.ctx, e.admin, app.TeamInput{Name: "Support", MainMemberIDs: []string{ann.UserID}, ExtraMemberIDs: []string{bob.UserID}}))(t)
		sales := must(e.svc.CreateTeam(e.ctx, e.admin, app.TeamInput{Name: "Sales", MainMemberIDs: []string{cid.UserID}}))(t)
		ch := e.limitedChannel("Support", support.ID)
		conv := e.inbound(ch.ID, "c@x.test", "hello").Conversation

		opts := must(e.svc.AssignOptions(e.ctx, ann, conv.ID))(t)
		var names []string
		for _, u := range opts.Users {
			names = append(names, u.Name)
		}
		if !slices.Equal(names, []string{"ann", "bob"}) {
			t.Errorf("R-I4: users offered = %v, want ann and bob (main and extra members), not cid or the admin", names)
		}
		if len(opts.Teams) != 1 || opts.Teams[0].ID != support.ID {
			t.Errorf("R-I4: teams offered = %v, want only Support (not %s)", opts.Teams, sales.Name)
		}
		if opts.CanAssignOthers {
			t.Error("R-M2: an agent may only take an unassigned conversation, not give it to others")
		}
		if _, err := e.svc.AssignOptions(e.ctx, cid, conv.ID); !sb.IsKind(err, sb.NotFound) {
			t.Errorf("R-I4: cid has no access; err = %v, want NotFound", err)
		}
		must(e.svc.Assign(e.ctx, ann, conv.ID, app.AssignInput{UserID: ptr("me")}))(t)
		if !must(e.svc.AssignOptions(e.ctx, ann, conv.ID))(t).CanAssignOthers {
			t.Error("R-M4: the assignee may reassign")
		}
		if must(e.svc.AssignOptions(e.ctx, bob, conv.ID))(t).CanAssignOthers {
			t.Error("R-M4: someone else's conversation may not be reassigned by an agent")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// Rule R-M5: the views' counts match the lists, for what the actor may see
// (R-I4).
func TestCountViewsR_M5(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, cid := e.agent("ann", 0), e.agent("cid", 0)
		support := must(e.svc.CreateTeam(e.ctx, e.admin, app.TeamInput{Name: "Support", MainMemberIDs: []string{ann.UserID}}))(t)
		open := must(e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: "open", NewInbox: &app.InboxInput{Name: "Everyone"}}))(t)
		closed := e.limitedChannel("Support only", support.ID)
		c1 := e.inbound(open.ID, "a@x.test", "one").Conversation
		e.inbound(open.ID, "b@x.test", "two")
		e.inbound(closed.ID, "c@x.test", "three")
		c4 := e.inbound(closed.ID, "d@x.test", "four").Conversation
		must(e.svc.Assign(e.ctx, ann, c1.ID, app.AssignInput{UserID: ptr("me")}))(t)
		must(e.svc.SetOpen(e.ctx, ann, c4.ID, false))(t)

		got := must(e.svc.CountViews(e.ctx, ann))(t)
		if got.Open != 3 || got.Unassigned != 2 || got.Mine != 1 || got.Teams[support.ID] != 1 || got.Inboxes[closed.InboxID] != 1 {
			t.Errorf("ann's counts = %+v, want open 3, unassigned 2, mine 1, Support 1, limited inbox 1", got)
		}
		for _, v := range []string{app.ViewOpen, app.ViewUnassigned, app.ViewMine} {
			list := must(e.svc.ListConversations(e.ctx, ann, app.ListQuery{View: v}))(t)
			want := map[string]int{app.ViewOpen: got.Open, app.ViewUnassigned: got.Unassigned, app.ViewMine: got.Mine}[v]
			if len(list.Items) != want {
				t.Errorf("view %s lists %d, count says %d", v, len(list.Items), want)
			}
		}
		other := must(e.svc.CountViews(e.ctx, cid))(t)
		if other.Open != 2 || other.Unassigned != 1 || other.Inboxes[closed.InboxID] != 0 {
			t.Errorf("R-I4: cid's counts = %+v, want only the open inbox's 2 (1 unassigned)", other)
		}
	})
}

// Sign-out revokes the token at once.
func TestLogoutRevokesToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.agent("ann", 0)
		token, _ := must2(e.svc.Login(e.ctx, app.LoginInput{Email: "ann@acme.test", Password: "password ann"}))(t)
		if _, err := e.svc.Authenticate(e.ctx, token); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(e.ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(e.ctx, token); !sb.IsKind(err, sb.Unauthenticated) {
			t.Errorf("after Logout: err = %v, want Unauthenticated", err)
		}
		if err := e.svc.Logout(e.ctx, token); !sb.IsKind(err, sb.Unauthenticated) {
			t.Errorf("second Logout: err = %v, want Unauthenticated", err)
		}
	})
}

func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// limitedChannel connects an email channel to a new inbox, then limits the
// inbox to teamID (the admin, in no team, keeps no access: R-I4).
func (e *env) limitedChannel(name, teamID string) *app.ChannelView {
	e.t.Helper()
	ch := must(e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: sb.KindEmail, Name: name, NewInbox: &app.InboxInput{Name: name}}))(e.t)
	must(e.svc.UpdateInbox(e.ctx, e.admin, ch.InboxID, app.InboxPatch{TeamIDs: &[]string{teamID}}))(e.t)
	return ch
}
