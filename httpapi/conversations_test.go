package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

func TestInbound(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		a1, _ := e.user(t, "Anna", nil)
		a2, agent := e.user(t, "Bert", nil)
		inbox := e.inbox(t, "Support")
		mail := e.channel(t, inbox, "email", nil)
		chat := e.channel(t, inbox, "chat", map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{a1, a2}})
		t.Run("R-M1 routing off leaves it unassigned, in view=unassigned", func(t *testing.T) {
			res := e.inbound(t, mail, "carla@x.test", "m-1")
			if res.Conversation.AssigneeID != "" || res.Conversation.Status != sb.StatusOpen || res.Duplicate {
				t.Fatalf("conversation %+v", res.Conversation)
			}
			if ids := e.list(t, e.admin, "view=unassigned", 50); !slices.Contains(ids, res.Conversation.ID) {
				t.Fatalf("view=unassigned %v lacks %s", ids, res.Conversation.ID)
			}
		})
		t.Run("idempotent on external_id: 200 duplicate, still one message", func(t *testing.T) {
			first := e.inbound(t, mail, "dave@x.test", "m-2")
			var again app.InboundResult
			e.want(t, http.StatusOK, "POST", "/api/v1/channels/"+mail+"/inbound", e.admin, map[string]any{
				"contact": map[string]any{"email": "dave@x.test"}, "body": "Hello, I need help", "external_id": "m-2",
			}).into(t, &again)
			if !again.Duplicate || again.Conversation.ID != first.Conversation.ID || again.Message.ID != first.Message.ID {
				t.Fatalf("second delivery %+v", again)
			}
			var ms app.Page[*sb.Message]
			e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+first.Conversation.ID+"/messages", e.admin, nil).into(t, &ms)
			if len(ms.Items) != 1 {
				t.Fatalf("%d messages, want 1", len(ms.Items))
			}
		})
		t.Run("R-A6 chat goes to the least busy of two agents", func(t *testing.T) {
			r1 := e.inbound(t, chat, "erin@x.test", "c-1")
			r2 := e.inbound(t, chat, "fred@x.test", "c-2")
			got := []string{r1.Conversation.AssigneeID, r2.Conversation.AssigneeID}
			slices.Sort(got)
			want := []string{a1, a2}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("assignees %v, want one each of %v", got, want)
			}
			if r2.Decision == nil || r2.Decision.Strategy != "least_busy" || r2.Decision.AssigneeID != r2.Conversation.AssigneeID {
				t.Fatalf("decision %+v", r2.Decision)
			}
		})
		t.Run("inbound is for admins and integrations", func(t *testing.T) {
			e.wantErr(t, http.StatusForbidden, "admin_required", "", "POST", "/api/v1/channels/"+mail+"/inbound", agent,
				map[string]any{"contact": map[string]any{"email": "g@x.test"}, "body": "hi"})
		})
		t.Run("bad inbound input", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "invalid_contact", "contact", "POST", "/api/v1/channels/"+mail+"/inbound", e.admin,
				map[string]any{"contact": map[string]any{"name": "Nobody"}, "body": "hi"})
			e.wantErr(t, http.StatusBadRequest, "invalid_body", "body", "POST", "/api/v1/channels/"+mail+"/inbound", e.admin,
				map[string]any{"contact": map[string]any{"email": "g@x.test"}, "body": "  "})
			e.wantErr(t, http.StatusNotFound, "channel_not_found", "", "POST", "/api/v1/channels/nope/inbound", e.admin,
				map[string]any{"contact": map[string]any{"email": "g@x.test"}, "body": "hi"})
		})
	})
}

// TestViews covers R-M5's views and cursor paging over 120 conversations.
func TestViews(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		_, agent := e.user(t, "Vera", nil)
		inbox := e.inbox(t, "Support")
		mail := e.channel(t, inbox, "email", nil)
		var all []string
		for i := range 120 {
			all = append(all, e.inbound(t, mail, fmt.Sprintf("c%03d@x.test", i), fmt.Sprintf("v-%d", i)).Conversation.ID)
		}
		mine, closed := all[10:13], all[20:25]
		for _, id := range mine {
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+id+"/assign", agent, map[string]any{"user_id": "me"})
		}
		for _, id := range closed {
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+id+"/close", agent, nil)
		}
		t.Run("R-M5 open view pages without gaps or repeats", func(t *testing.T) {
			for _, limit := range []int{50, 7, 200} {
				got := e.list(t, agent, "view=open", limit)
				if len(got) != 115 {
					t.Fatalf("limit %d: %d conversations, want 115", limit, len(got))
				}
				seen := map[string]bool{}
				for _, id := range got {
					if seen[id] || slices.Contains(closed, id) {
						t.Fatalf("limit %d: %s repeated or closed", limit, id)
					}
					seen[id] = true
				}
			}
		})
		t.Run("R-M5 newest activity first", func(t *testing.T) {
			got := e.list(t, agent, "view=open&inbox_id="+inbox, 200)
			if got[len(got)-1] != all[0] {
				t.Fatalf("oldest is %s, want %s last", got[len(got)-1], all[0])
			}
		})
		t.Run("R-M5 unassigned, mine and closed", func(t *testing.T) {
			if got := e.list(t, agent, "view=unassigned", 50); len(got) != 112 || slices.ContainsFunc(mine, func(id string) bool { return slices.Contains(got, id) }) {
				t.Fatalf("unassigned: %d", len(got))
			}
			if got := e.list(t, agent, "view=mine", 50); !sameSet(got, mine) {
				t.Fatalf("mine: %v, want %v", got, mine)
			}
			if got := e.list(t, e.admin, "view=mine", 50); len(got) != 0 {
				t.Fatalf("admin's mine: %v", got)
			}
			if got := e.list(t, agent, "view=closed", 2); !sameSet(got, closed) {
				t.Fatalf("closed: %v, want %v", got, closed)
			}
		})
		t.Run("bad view, inbox and cursor", func(t *testing.T) {
			e.wantErr(t, http.StatusBadRequest, "invalid_view", "view", "GET", "/api/v1/conversations?view=everything", agent, nil)
			e.wantErr(t, http.StatusNotFound, "inbox_not_found", "", "GET", "/api/v1/conversations?inbox_id=nope", agent, nil)
			e.wantErr(t, http.StatusBadRequest, "invalid_cursor", "cursor", "GET", "/api/v1/conversations?cursor=!!", agent, nil)
		})
	})
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestInboxAccess covers R-I4 and R-I5 on conversations.
func TestInboxAccess(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		mainID, member := e.user(t, "Mia", nil)
		extraID, extra := e.user(t, "Xavi", nil)
		_, outsider := e.user(t, "Olga", nil)
		team := e.team(t, "VIP", []string{mainID}, []string{extraID, e.adminID})
		inbox := e.inbox(t, "VIP inbox", team)
		mail := e.channel(t, inbox, "email", nil)
		var ids []string
		for i := range 3 {
			ids = append(ids, e.inbound(t, mail, fmt.Sprintf("vip%d@x.test", i), fmt.Sprintf("i-%d", i)).Conversation.ID)
		}
		e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+ids[0]+"/assign", member, map[string]any{"user_id": "me"})
		t.Run("R-I4 an agent outside the inbox's teams sees none of it", func(t *testing.T) {
			for _, view := range []string{"open", "unassigned", "closed"} {
				if got := e.list(t, outsider, "view="+view, 50); len(got) != 0 {
					t.Fatalf("view=%s shows %v", view, got)
				}
			}
			for _, p := range []string{"", "/messages", "/routing"} {
				e.wantErr(t, http.StatusNotFound, "not_found", "", "GET", "/api/v1/conversations/"+ids[0]+p, outsider, nil)
			}
			e.wantErr(t, http.StatusNotFound, "not_found", "", "POST", "/api/v1/conversations/"+ids[1]+"/assign", outsider, map[string]any{"user_id": "me"})
			e.wantErr(t, http.StatusNotFound, "inbox_not_found", "", "GET", "/api/v1/conversations?inbox_id="+inbox, outsider, nil)
		})
		t.Run("R-I5 main and extra members see all of its conversations", func(t *testing.T) {
			for _, tok := range []string{member, extra} {
				if got := e.list(t, tok, "view=open", 50); !sameSet(got, ids) {
					t.Fatalf("view=open shows %v, want %v", got, ids)
				}
				if c := e.conversation(t, tok, ids[0]); c.AssigneeID != mainID {
					t.Fatalf("conversation %+v", c)
				}
			}
		})
	})
}

// triage is a fixture for manual triage: agents a (in team core) and b,
// five unassigned conversations c in an inbox open to all, and one, core,
// in an inbox limited to the team.
type triage struct {
	aID, a, bID, b, team, core string
	c                          []string
}

func newTriage(t *testing.T, e *env) *triage {
	t.Helper()
	e.setup(t)
	tr := &triage{c: make([]string, 5)}
	tr.aID, tr.a = e.user(t, "Amy", nil)
	tr.bID, tr.b = e.user(t, "Ben", nil)
	tr.team = e.team(t, "Core", []string{tr.aID}, []string{e.adminID})
	mail := e.channel(t, e.inbox(t, "Support"), "email", nil)
	coreMail := e.channel(t, e.inbox(t, "Core only", tr.team), "email", nil)
	for i := range tr.c {
		tr.c[i] = e.inbound(t, mail, fmt.Sprintf("t%d@x.test", i), fmt.Sprintf("t-%d", i)).Conversation.ID
	}
	tr.core = e.inbound(t, coreMail, "core@x.test", "core-1").Conversation.ID
	return tr
}

// TestAssign covers manual (re)assignment and its routing record.
func TestAssign(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		tr := newTriage(t, e)
		aID, a, bID, team, c, core := tr.aID, tr.a, tr.bID, tr.team, tr.c, tr.core
		assign := func(token, id string, body any) *resp {
			return e.do(t, "POST", "/api/v1/conversations/"+id+"/assign", token, body)
		}
		assignee := func(r *resp) string {
			t.Helper()
			var cv sb.Conversation
			r.into(t, &cv)
			return cv.AssigneeID
		}
		t.Run("R-M2 an agent takes an unassigned conversation", func(t *testing.T) {
			if r := assign(a, c[0], map[string]any{"user_id": "me"}); r.Status != http.StatusOK || assignee(r) != aID {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("an agent cannot give an unassigned conversation to someone else", func(t *testing.T) {
			checkErr(t, assign(a, c[1], map[string]any{"user_id": bID}), http.StatusForbidden, "assign_self_only", "")
		})
		t.Run("R-M4 the assignee reassigns", func(t *testing.T) {
			if r := assign(a, c[0], map[string]any{"user_id": bID}); r.Status != http.StatusOK || assignee(r) != bID {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("R-M4 an agent cannot reassign someone else's", func(t *testing.T) {
			checkErr(t, assign(a, c[0], map[string]any{"user_id": "me"}), http.StatusForbidden, "not_assignee", "")
		})
		t.Run("R-M4 an admin reassigns anyone's", func(t *testing.T) {
			if r := assign(e.admin, c[0], map[string]any{"user_id": aID}); r.Status != http.StatusOK || assignee(r) != aID {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("R-I4 assigning to a user outside the inbox's teams answers 422", func(t *testing.T) {
			checkErr(t, assign(e.admin, core, map[string]any{"user_id": bID}), http.StatusUnprocessableEntity, "no_inbox_access", "user_id")
			if got := e.conversation(t, a, core).AssigneeID; got != "" {
				t.Fatalf("assigned to %s after a refusal", got)
			}
		})
		t.Run("unassign with null or an empty object; assign to a team", func(t *testing.T) {
			if r := assign(a, c[0], `{"user_id": null}`); r.Status != http.StatusOK || assignee(r) != "" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			assign(a, c[0], map[string]any{"user_id": "me"})
			if r := assign(a, c[0], map[string]any{}); r.Status != http.StatusOK || assignee(r) != "" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			var cv sb.Conversation
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+c[4]+"/assign", e.admin, map[string]any{"team_id": team}).into(t, &cv)
			if cv.TeamID != team || cv.AssigneeID != "" {
				t.Fatalf("team assignment %+v", cv)
			}
			checkErr(t, assign(e.admin, c[4], map[string]any{"user_id": "ghost"}), http.StatusBadRequest, "invalid_user_id", "user_id")
		})
		t.Run("R-A12 the routing record is readable", func(t *testing.T) {
			var p app.Page[*sb.Decision]
			e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+c[0]+"/routing", a, nil).into(t, &p)
			if len(p.Items) < 2 || p.Items[0].Trigger != sb.TriggerCreated || p.Items[1].Trigger != sb.TriggerManual || p.Items[1].ActorUserID != aID {
				t.Fatalf("record %+v", p.Items)
			}
		})
	})
}

// TestReplies covers replies, notes (R-M3), close and reopen.
func TestReplies(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		tr := newTriage(t, e)
		a, bID, b, c := tr.a, tr.bID, tr.b, tr.c
		t.Run("R-M3 a reply to an unassigned conversation assigns the replier", func(t *testing.T) {
			var res app.ReplyResult
			e.want(t, http.StatusCreated, "POST", "/api/v1/conversations/"+c[2]+"/messages", b, map[string]any{"body": "On it!"}).into(t, &res)
			if res.Conversation.AssigneeID != bID || res.Message.Direction != sb.DirectionOut || res.Message.AuthorUserID != bID {
				t.Fatalf("reply %+v %+v", res.Conversation, res.Message)
			}
		})
		t.Run("R-M3 an internal note does not assign", func(t *testing.T) {
			var res app.ReplyResult
			e.want(t, http.StatusCreated, "POST", "/api/v1/conversations/"+c[3]+"/messages", b, map[string]any{"body": "VIP, careful", "internal": true}).into(t, &res)
			if res.Conversation.AssigneeID != "" || res.Message.Direction != sb.DirectionNote {
				t.Fatalf("note %+v %+v", res.Conversation, res.Message)
			}
			var ms app.Page[*sb.Message]
			e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+c[3]+"/messages", a, nil).into(t, &ms)
			if len(ms.Items) != 2 || ms.Items[0].Direction != sb.DirectionIn || ms.Items[1].Direction != sb.DirectionNote {
				t.Fatalf("thread %+v", ms.Items)
			}
			e.wantErr(t, http.StatusBadRequest, "invalid_body", "body", "POST", "/api/v1/conversations/"+c[3]+"/messages", b, map[string]any{"body": ""})
		})
		t.Run("close and reopen", func(t *testing.T) {
			var cv sb.Conversation
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+c[2]+"/close", b, nil).into(t, &cv)
			if cv.Status != sb.StatusClosed || cv.ClosedAt.IsZero() {
				t.Fatalf("closed %+v", cv)
			}
			if got := e.list(t, a, "view=closed", 50); !slices.Equal(got, []string{c[2]}) {
				t.Fatalf("closed view %v", got)
			}
			var re sb.Conversation
			e.want(t, http.StatusOK, "POST", "/api/v1/conversations/"+c[2]+"/reopen", b, nil).into(t, &re)
			if re.Status != sb.StatusOpen || !re.ClosedAt.IsZero() {
				t.Fatalf("reopened %+v", re)
			}
		})
	})
}

// TestRoutingRecord reads R-A12's record of an automatic decision.
func TestRoutingRecord(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		aID, a := e.user(t, "Ann", nil)
		bID, _ := e.user(t, "Bob", nil)
		noSeat, _ := e.user(t, "Cy", nil)
		inbox := e.inbox(t, "Support")
		chat := e.channel(t, inbox, "chat", map[string]any{"enabled": true, "mode": "specific", "user_ids": []string{aID, bID, noSeat}})
		e.want(t, http.StatusOK, "PATCH", "/api/v1/users/"+noSeat, e.admin, map[string]any{"paid_seat": false})
		e.want(t, http.StatusOK, "PUT", "/api/v1/users/"+bID+"/status", e.admin, map[string]any{"status": "away"})
		res := e.inbound(t, chat, "r@x.test", "r-1")
		t.Run("R-A12 candidates, why each was dropped, who won and why", func(t *testing.T) {
			var p app.Page[*sb.Decision]
			e.want(t, http.StatusOK, "GET", "/api/v1/conversations/"+res.Conversation.ID+"/routing", a, nil).into(t, &p)
			if len(p.Items) != 1 {
				t.Fatalf("%d decisions", len(p.Items))
			}
			d := p.Items[0]
			if d.AssigneeID != aID || d.Outcome != sb.OutcomeAssigned || d.Reason == "" || len(d.Candidates) != 3 {
				t.Fatalf("decision %+v", d)
			}
			dropped := map[string]string{}
			for _, c := range d.Candidates {
				dropped[c.UserID] = c.Dropped
			}
			if dropped[aID] != "" || dropped[bID] != sb.DropAway || dropped[noSeat] != sb.DropNoSeat {
				t.Fatalf("dropped %v", dropped)
			}
		})
	})
}

// TestStatus covers R-V1's toggle.
func TestStatus(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		e.setup(t)
		aID, a := e.user(t, "Ava", nil)
		bID, _ := e.user(t, "Bo", nil)
		status := func(token, id string, body any) *resp {
			return e.do(t, "PUT", "/api/v1/users/"+id+"/status", token, body)
		}
		var u app.UserView
		t.Run("R-V1 a user toggles their own status", func(t *testing.T) {
			r := status(a, "me", map[string]any{"status": "away", "reassign_replies": true})
			r.into(t, &u)
			if r.Status != http.StatusOK || u.Status != sb.Away || !u.ReassignReplies || u.StatusSetBy != "" || u.EffectiveStatus != sb.Away {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			status(a, aID, map[string]any{"status": "available"}).into(t, &u)
			if u.Status != sb.Available || !u.ReassignReplies {
				t.Fatalf("back %+v", u.User)
			}
		})
		t.Run("R-V1 an agent cannot set someone else's status", func(t *testing.T) {
			checkErr(t, status(a, bID, map[string]any{"status": "away"}), http.StatusForbidden, "availability_permission_required", "")
		})
		t.Run("R-V1 an admin sets others away and the user sees who did", func(t *testing.T) {
			if r := status(e.admin, aID, map[string]any{"status": "away"}); r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			e.want(t, http.StatusOK, "GET", "/api/v1/users/me", a, nil).into(t, &u)
			if u.Status != sb.Away || u.StatusSetBy != e.adminID {
				t.Fatalf("user sees %+v", u.User)
			}
			checkErr(t, status(e.admin, aID, map[string]any{"status": "available"}), http.StatusUnprocessableEntity, "only_set_away", "")
		})
		t.Run("bad status", func(t *testing.T) {
			checkErr(t, status(a, "me", map[string]any{"status": "busy"}), http.StatusBadRequest, "invalid_status", "status")
			checkErr(t, status(e.admin, "nope", map[string]any{"status": "away"}), http.StatusNotFound, "not_found", "")
		})
	})
}
