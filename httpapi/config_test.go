package httpapi_test

import (
	"net/http"
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		agentID, agent := e.user(t, "Alice", nil)
		t.Run("create answers 201 with the user view", func(t *testing.T) {
			var u app.UserView
			e.want(t, http.StatusCreated, "POST", "/api/v1/users", e.admin, map[string]any{
				"email": "Bob@Acme.test", "name": "Bob", "chat_capacity": 3, "password": password,
			}).into(t, &u)
			if u.Email != "bob@acme.test" || u.Role != sb.RoleAgent || u.ChatCapacity != 3 || u.EffectiveStatus != sb.Available {
				t.Fatalf("created %+v", u.User)
			}
		})
		t.Run("bad email answers 400 naming the field", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "invalid_email", "email", "POST", "/api/v1/users", e.admin,
				map[string]any{"email": "not an email", "name": "X", "password": password})
		})
		t.Run("negative chat_capacity answers 400 naming the field", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "invalid_chat_capacity", "chat_capacity", "POST", "/api/v1/users", e.admin,
				map[string]any{"email": "neg@acme.test", "name": "X", "chat_capacity": -1, "password": password})
		})
		t.Run("duplicate email answers 409", func(t *testing.T) {
			e.wantErr(t, http.StatusConflict, "email_taken", "email", "POST", "/api/v1/users", e.admin,
				map[string]any{"email": "alice@acme.test", "name": "Alice 2", "password": password})
		})
		t.Run("agents may list users and read themselves only", func(t *testing.T) {
			var p app.Page[*app.UserView]
			e.want(t, http.StatusOK, "GET", "/api/v1/users", agent, nil).into(t, &p)
			if len(p.Items) != 3 {
				t.Fatalf("%d users, want 3", len(p.Items))
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/users/"+agentID, agent, nil)
			e.want(t, http.StatusOK, "GET", "/api/v1/users/me", agent, nil)
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "GET", "/api/v1/users/"+e.adminID, agent, nil)
		})
		t.Run("admin-only changes answer 403 to agents", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/users", agent,
				map[string]any{"email": "eve@acme.test", "name": "Eve", "password": password})
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "PATCH", "/api/v1/users/"+agentID, agent, map[string]any{"paid_seat": true})
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/teams", agent, map[string]any{"name": "Mine"})
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/inboxes", agent, map[string]any{"name": "Mine"})
		})
		t.Run("patch answers 200 with the change", func(t *testing.T) {
			var u app.UserView
			e.want(t, http.StatusOK, "PATCH", "/api/v1/users/"+agentID, e.admin, map[string]any{"name": "Alice A.", "chat_capacity": 2}).into(t, &u)
			if u.Name != "Alice A." || u.ChatCapacity != 2 {
				t.Fatalf("patched %+v", u.User)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_chat_capacity", "chat_capacity", "PATCH", "/api/v1/users/"+agentID, e.admin, map[string]any{"chat_capacity": -5})
		})
		t.Run("paging the user list", func(t *testing.T) {
			var p1, p2 app.Page[*app.UserView]
			e.want(t, http.StatusOK, "GET", "/api/v1/users?limit=2", e.admin, nil).into(t, &p1)
			if len(p1.Items) != 2 || p1.NextCursor == "" {
				t.Fatalf("first page: %d items, cursor %q", len(p1.Items), p1.NextCursor)
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/users?limit=2&cursor="+p1.NextCursor, e.admin, nil).into(t, &p2)
			if len(p2.Items) != 1 || p2.NextCursor != "" || p2.Items[0].ID == p1.Items[1].ID {
				t.Fatalf("second page: %d items, cursor %q", len(p2.Items), p2.NextCursor)
			}
		})
	})
}

func TestTeamsAndInboxes(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		inID, in := e.user(t, "Ina", nil)
		_, out := e.user(t, "Otto", nil)
		var teamID, inboxID string
		t.Run("patch sets a new password", func(t *testing.T) {
			var u app.UserView
			e.want(t, http.StatusCreated, "POST", "/api/v1/users", e.admin, map[string]any{
				"email": "carol@acme.test", "name": "Carol", "password": password}).into(t, &u)
			e.wantErr(t, http.StatusBadRequest, "invalid_password", "password", "PATCH", "/api/v1/users/"+u.ID, e.admin, map[string]any{"password": "short"})
			e.want(t, http.StatusCreated, "POST", "/api/v1/tokens", "", map[string]any{"email": "carol@acme.test", "password": password})
			e.want(t, http.StatusOK, "PATCH", "/api/v1/users/"+u.ID, e.admin, map[string]any{"password": "a brand new password"})
			e.wantErr(t, http.StatusUnauthorized, "bad_credentials", "", "POST", "/api/v1/tokens", "", map[string]any{"email": "carol@acme.test", "password": password})
			e.want(t, http.StatusCreated, "POST", "/api/v1/tokens", "", map[string]any{"email": "carol@acme.test", "password": "a brand new password"})
		})
		t.Run("teams", func(t *testing.T) {
			var tm sb.Team
			e.want(t, http.StatusCreated, "POST", "/api/v1/teams", e.admin, map[string]any{"name": " Support ", "main_member_ids": []string{inID}}).into(t, &tm)
			if tm.Name != "Support" || !slices.Equal(tm.MainMemberIDs, []string{inID}) {
				t.Fatalf("team %+v", tm)
			}
			teamID = tm.ID
			e.want(t, http.StatusOK, "PATCH", "/api/v1/teams/"+teamID, e.admin, map[string]any{"extra_member_ids": []string{e.adminID}}).into(t, &tm)
			if !slices.Equal(tm.ExtraMemberIDs, []string{e.adminID}) || tm.Name != "Support" {
				t.Fatalf("patched team %+v", tm)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_main_member_ids", "main_member_ids", "POST", "/api/v1/teams", e.admin,
				map[string]any{"name": "Ghosts", "main_member_ids": []string{"no-such-user"}})
			var p app.Page[*sb.Team]
			e.want(t, http.StatusOK, "GET", "/api/v1/teams", out, nil).into(t, &p)
			if len(p.Items) != 1 || p.Items[0].ID != teamID {
				t.Fatalf("teams %+v", p.Items)
			}
		})
		t.Run("R-I4 inboxes with team_ids are seen by their teams only", func(t *testing.T) {
			var ib sb.Inbox
			e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes", e.admin, map[string]any{"name": "VIP", "team_ids": []string{teamID}}).into(t, &ib)
			if !slices.Equal(ib.TeamIDs, []string{teamID}) {
				t.Fatalf("inbox %+v", ib)
			}
			inboxID = ib.ID
			open := e.inbox(t, "General")
			for _, c := range []struct {
				token string
				want  []string
			}{{in, []string{inboxID, open}}, {out, []string{open}}, {e.admin, []string{inboxID, open}}} {
				var p app.Page[*sb.Inbox]
				e.want(t, http.StatusOK, "GET", "/api/v1/inboxes", c.token, nil).into(t, &p)
				var got []string
				for _, x := range p.Items {
					got = append(got, x.ID)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("inboxes %v, want %v", got, c.want)
				}
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_team_ids", "team_ids", "POST", "/api/v1/inboxes", e.admin, map[string]any{"name": "X", "team_ids": []string{"nope"}})
			e.want(t, http.StatusOK, "PATCH", "/api/v1/inboxes/"+inboxID, e.admin, map[string]any{"name": "VIP customers"}).into(t, &ib)
			if ib.Name != "VIP customers" || !slices.Equal(ib.TeamIDs, []string{teamID}) {
				t.Fatalf("patched inbox %+v", ib)
			}
		})
		t.Run("a team in use cannot be deleted; an unused one can", func(t *testing.T) {
			e.wantErr(t, http.StatusConflict, "team_in_use", "", "DELETE", "/api/v1/teams/"+teamID, e.admin, nil)
			spare := e.team(t, "Spare", nil, nil)
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "DELETE", "/api/v1/teams/"+spare, in, nil)
			e.want(t, http.StatusNoContent, "DELETE", "/api/v1/teams/"+spare, e.admin, nil)
			e.want(t, http.StatusNotFound, "DELETE", "/api/v1/teams/"+spare, e.admin, nil)
		})
	})
}

// channelSetup is a fixture for channel tests: a seated agent in team
// sales (with the admin as an extra member), an agent without a seat, an
// outsider in team billing, and inboxes open to all, limited to sales, and
// limited to billing (which the admin has no access to).
type channelSetup struct {
	seatedID, agent, noSeatID, outsiderID string
	team, open, limited, closed           string
}

func newChannelSetup(t *testing.T, e *env) *channelSetup {
	t.Helper()
	e.setup(t)
	f := &channelSetup{}
	f.seatedID, f.agent = e.user(t, "Sam", nil)
	f.noSeatID, _ = e.user(t, "Nora", map[string]any{"paid_seat": false})
	f.outsiderID, _ = e.user(t, "Olaf", nil)
	f.team = e.team(t, "Sales", []string{f.seatedID}, []string{e.adminID})
	otherTeam := e.team(t, "Billing", []string{f.outsiderID}, nil)
	f.open = e.inbox(t, "General")
	f.limited = e.inbox(t, "Sales inbox", f.team)
	f.closed = e.inbox(t, "Billing inbox", otherTeam)
	return f
}

// TestChannelRefusals covers who may not connect which channel: R-I3,
// R-A2 and R-I4, each refusal storing nothing.
func TestChannelRefusals(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		f := newChannelSetup(t, e)
		agent, noSeatID, outsiderID, open, limited, closed := f.agent, f.noSeatID, f.outsiderID, f.open, f.limited, f.closed
		channels := func(inboxID string) []*app.ChannelView {
			var p app.Page[*app.ChannelView]
			e.want(t, http.StatusOK, "GET", "/api/v1/inboxes/"+inboxID+"/channels", e.admin, nil).into(t, &p)
			return p.Items
		}
		mail := map[string]any{"kind": "email", "name": "Support mail", "config": map[string]any{"address": "help@acme.test"}}
		t.Run("R-I3 an agent cannot connect a channel", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "account_access_required", "", "POST", "/api/v1/inboxes/"+open+"/channels", agent, mail)
			if n := len(channels(open)); n != 0 {
				t.Fatalf("%d channels after a refused create", n)
			}
		})
		t.Run("R-I3 an admin without access to a team-limited inbox gets 403", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "inbox_access_required", "", "POST", "/api/v1/inboxes/"+closed+"/channels", e.admin, mail)
			if n := len(channels(closed)); n != 0 {
				t.Fatalf("%d channels after a refused create", n)
			}
		})
		t.Run("R-A2 naming a user without a paid seat answers 422 and stores nothing", func(t *testing.T) {
			body := map[string]any{"kind": "chat", "name": "Chat", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{noSeatID}}}
			e.wantErr(t, http.StatusUnprocessableEntity, "user_without_seat", "routing.user_ids", "POST", "/api/v1/inboxes/"+open+"/channels", e.admin, body)
			if n := len(channels(open)); n != 0 {
				t.Fatalf("%d channels after a refused create", n)
			}
		})
		t.Run("R-I4 naming a user outside the inbox's teams answers 422", func(t *testing.T) {
			body := map[string]any{"kind": "chat", "name": "Chat", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{outsiderID}}}
			e.wantErr(t, http.StatusUnprocessableEntity, "user_without_inbox_access", "routing.user_ids", "POST", "/api/v1/inboxes/"+limited+"/channels", e.admin, body)
		})
	})
}

// TestChannels covers a channel's life: create, read, warnings (R-A2), a
// new inbox with it (R-I1), patch and delete.
func TestChannels(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		f := newChannelSetup(t, e)
		seatedID, agent, team, open, limited := f.seatedID, f.agent, f.team, f.open, f.limited
		var chatID string
		t.Run("create, read and list a channel with routing", func(t *testing.T) {
			var c app.ChannelView
			e.want(t, http.StatusCreated, "POST", "/api/v1/inboxes/"+limited+"/channels", e.admin, map[string]any{
				"kind": "chat", "name": "Web chat", "routing": map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{seatedID}},
			}).into(t, &c)
			if c.InboxID != limited || !c.Routing.Enabled || len(c.RoutingWarnings) != 0 {
				t.Fatalf("channel %+v", c)
			}
			chatID = c.ID
			e.want(t, http.StatusOK, "GET", "/api/v1/channels/"+chatID, agent, nil)
			var all app.Page[*app.ChannelView]
			e.want(t, http.StatusOK, "GET", "/api/v1/channels", e.admin, nil).into(t, &all)
			if len(all.Items) != 1 {
				t.Fatalf("%d channels", len(all.Items))
			}
		})
		t.Run("R-A2 routing_warnings after a named user loses their seat", func(t *testing.T) {
			e.want(t, http.StatusOK, "PATCH", "/api/v1/users/"+seatedID, e.admin, map[string]any{"paid_seat": false})
			var c app.ChannelView
			e.want(t, http.StatusOK, "GET", "/api/v1/channels/"+chatID, e.admin, nil).into(t, &c)
			if len(c.RoutingWarnings) != 1 {
				t.Fatalf("routing_warnings %q, want one", c.RoutingWarnings)
			}
		})
		t.Run("R-I1 a channel with a new inbox", func(t *testing.T) {
			var c app.ChannelView
			e.want(t, http.StatusCreated, "POST", "/api/v1/channels", e.admin, map[string]any{
				"kind": "form", "name": "Contact form", "new_inbox": map[string]any{"name": "Forms"},
			}).into(t, &c)
			var ib app.Page[*sb.Inbox]
			e.want(t, http.StatusOK, "GET", "/api/v1/inboxes", e.admin, nil).into(t, &ib)
			if !slices.ContainsFunc(ib.Items, func(in *sb.Inbox) bool { return in.ID == c.InboxID && in.Name == "Forms" }) {
				t.Fatalf("new inbox %s not listed", c.InboxID)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_inbox_id", "inbox_id", "POST", "/api/v1/channels", e.admin, map[string]any{"kind": "form", "name": "F"})
			e.wantErr(t, http.StatusBadRequest, "invalid_new_inbox", "new_inbox", "POST", "/api/v1/inboxes/"+open+"/channels", e.admin,
				map[string]any{"kind": "form", "name": "F", "new_inbox": map[string]any{"name": "X"}})
		})
		t.Run("patch and delete", func(t *testing.T) {
			var c app.ChannelView
			e.want(t, http.StatusOK, "PATCH", "/api/v1/channels/"+chatID, e.admin, map[string]any{
				"routing": map[string]any{"enabled": true, "mode": "specific", "team_ids": []string{team}},
			}).into(t, &c)
			if len(c.RoutingWarnings) != 0 || !slices.Equal(c.Routing.TeamIDs, []string{team}) {
				t.Fatalf("patched routing %+v, warnings %q", c.Routing, c.RoutingWarnings)
			}
			var named app.ChannelView
			e.want(t, http.StatusOK, "PATCH", "/api/v1/channels/"+chatID, e.admin, map[string]any{"name": "Chat!"}).into(t, &named)
			if named.Name != "Chat!" || !named.Routing.Enabled {
				t.Fatalf("patched %+v", named)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_routing.mode", "routing.mode", "PATCH", "/api/v1/channels/"+chatID, e.admin,
				map[string]any{"routing": map[string]any{"mode": "sideways"}})
			e.wantErr(t, http.StatusForbidden, "account_access_required", "", "DELETE", "/api/v1/channels/"+chatID, agent, nil)
			e.want(t, http.StatusNoContent, "DELETE", "/api/v1/channels/"+chatID, e.admin, nil)
			e.want(t, http.StatusNotFound, "GET", "/api/v1/channels/"+chatID, e.admin, nil)
		})
	})
}

func TestContacts(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		ownerID, agent := e.user(t, "Owen", nil)
		var ids []string
		t.Run("create", func(t *testing.T) {
			for _, em := range []string{"a@x.test", "b@x.test", "c@x.test"} {
				var c sb.Contact
				e.want(t, http.StatusCreated, "POST", "/api/v1/contacts", agent, map[string]any{"email": em, "name": "C", "owner_id": ownerID}).into(t, &c)
				ids = append(ids, c.ID)
			}
			e.wantErr(t, http.StatusConflict, "contact_exists", "", "POST", "/api/v1/contacts", agent, map[string]any{"email": "A@x.test"})
			e.wantErr(t, http.StatusBadRequest, "invalid_email", "email", "POST", "/api/v1/contacts", agent, map[string]any{"email": "nope"})
			e.wantErr(t, http.StatusBadRequest, "invalid_owner_id", "owner_id", "POST", "/api/v1/contacts", agent, map[string]any{"email": "d@x.test", "owner_id": "ghost"})
		})
		t.Run("read and patch", func(t *testing.T) {
			var c sb.Contact
			e.want(t, http.StatusOK, "PATCH", "/api/v1/contacts/"+ids[0], agent, map[string]any{"phone": "+31 20 123", "owner_id": ""}).into(t, &c)
			if c.Phone != "+31 20 123" || c.OwnerID != "" || c.Email != "a@x.test" {
				t.Fatalf("patched %+v", c)
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/contacts/"+ids[1], agent, nil).into(t, &c)
			if c.OwnerID != ownerID {
				t.Fatalf("read %+v", c)
			}
		})
		t.Run("cursor paging", func(t *testing.T) {
			var p1, p2 app.Page[*sb.Contact]
			e.want(t, http.StatusOK, "GET", "/api/v1/contacts?limit=2", agent, nil).into(t, &p1)
			e.want(t, http.StatusOK, "GET", "/api/v1/contacts?limit=2&cursor="+p1.NextCursor, agent, nil).into(t, &p2)
			if len(p1.Items) != 2 || p1.NextCursor == "" || len(p2.Items) != 1 || p2.NextCursor != "" {
				t.Fatalf("pages of %d (%q) and %d (%q)", len(p1.Items), p1.NextCursor, len(p2.Items), p2.NextCursor)
			}
			got := []string{p1.Items[0].ID, p1.Items[1].ID, p2.Items[0].ID}
			want := slices.Clone(ids)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("paged %v, want %v", got, want)
			}
		})
	})
}
