package app_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// ticketChannel makes a channel of kind in a new inbox that treats its
// conversations as tickets in pipeline/stage.
func (e *env) ticketChannel(kind sb.ChannelKind, rule sb.RoutingRule, pipeline, stage string, teams ...string) *app.ChannelView {
	e.t.Helper()
	return must(e.svc.CreateChannel(e.ctx, e.admin, "", app.ChannelInput{Kind: kind, Name: string(kind) + " tickets", Routing: &rule,
		Tickets:  &sb.TicketSettings{Enabled: true, Pipeline: pipeline, Stage: stage},
		NewInbox: &app.InboxInput{Name: "Tickets " + string(kind), TeamIDs: teams}}))(e.t)
}

// events returns the account's events of type typ.
func (e *env) events(typ string) []*sb.Event {
	e.t.Helper()
	var out []*sb.Event
	all, _ := mustTwo(e.svc.EventsSince(e.ctx, e.admin, 0, 1000))(e.t)
	for _, ev := range all {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func mustTwo[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func (e *env) ticket(id string) *sb.Ticket {
	e.t.Helper()
	return must(e.svc.GetTicket(e.ctx, e.admin, id))(e.t)
}

func stageNamed(p *sb.Pipeline, name string) string {
	for _, st := range p.Stages {
		if st.Name == name {
			return st.ID
		}
	}
	return ""
}

func TestTicketsFromChannel(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		ch := e.ticketChannel(sb.KindEmail, specific(ann), "Support", "Waiting")
		plain := e.channel(sb.KindEmail, sb.RoutingRule{})
		t.Run("R-T1 a new conversation creates a ticket in the configured pipeline and stage", func(t *testing.T) {
			r := e.inbound(ch.ID, "carla@x.test", "My printer is on fire\nplease help")
			if r.Conversation.TicketID == "" {
				t.Fatal("R-T1: the conversation has no ticket")
			}
			k := e.ticket(r.Conversation.TicketID)
			ps := must(e.svc.ListPipelines(e.ctx, e.admin))(t)
			if len(ps) != 1 || ps[0].Name != "Support" || len(ps[0].Stages) != 3 {
				t.Fatalf("the default pipeline was not created on first use: %+v", ps)
			}
			if k.PipelineID != ps[0].ID || k.StageID != stageNamed(ps[0], "Waiting") {
				t.Fatalf("R-T1: ticket placed in %s/%s, want Support/Waiting", k.PipelineID, k.StageID)
			}
			if k.ConversationID != r.Conversation.ID || k.ContactID != r.Conversation.ContactID || k.Name != "My printer is on fire please help" {
				t.Fatalf("ticket %+v", k)
			}
			if k.OwnerID != ann.UserID || k.OwnerSetManually {
				t.Fatalf("R-T2: the owner defaults to the assignee %s, got %q (manual %v)", ann.UserID, k.OwnerID, k.OwnerSetManually)
			}
			stored := must(e.svc.GetConversation(e.ctx, e.admin, r.Conversation.ID))(t)
			if stored.TicketID != k.ID {
				t.Fatalf("stored conversation.ticket_id %q, want %q", stored.TicketID, k.ID)
			}
			created := e.events(sb.EventConversationCreated)
			var c sb.Conversation
			_ = json.Unmarshal(created[len(created)-1].Data, &c)
			if c.TicketID != k.ID {
				t.Fatalf("conversation.created carries ticket_id %q, want %q", c.TicketID, k.ID)
			}
			tc := e.events(sb.EventTicketCreated)
			if len(tc) != 1 || tc[0].ConversationID != r.Conversation.ID || tc[0].InboxID != r.Conversation.InboxID {
				t.Fatalf("ticket.created events %+v", tc)
			}
			again := e.inbound(ch.ID, "carla@x.test", "any news?")
			if again.Conversation.ID != r.Conversation.ID || again.Conversation.TicketID != k.ID || len(e.events(sb.EventTicketCreated)) != 1 {
				t.Fatal("R-T1: a later message of the same conversation must not create another ticket")
			}
		})
		t.Run("R-T1 a channel without the setting creates none", func(t *testing.T) {
			r := e.inbound(plain.ID, "dave@x.test", "hello")
			if r.Conversation.TicketID != "" {
				t.Fatalf("ticket %q on a plain channel", r.Conversation.TicketID)
			}
		})
		t.Run("R-T1 concurrent arrivals in one batch each get their own ticket", func(t *testing.T) {
			var wg sync.WaitGroup
			ids := make([]string, 40)
			for i := range ids {
				wg.Go(func() {
					r, err := e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: fmt.Sprintf("many%d@x.test", i)}, Body: "hi"})
					if err != nil {
						t.Error(err)
						return
					}
					ids[i] = r.Conversation.TicketID
				})
			}
			wg.Wait()
			seen := map[string]bool{}
			for _, id := range ids {
				if id == "" || seen[id] {
					t.Fatalf("ticket ids %v: want 40 distinct", ids)
				}
				seen[id] = true
				if k := e.ticket(id); k.OwnerID != ann.UserID {
					t.Fatalf("ticket %s owner %q", id, k.OwnerID)
				}
			}
		})
		t.Run("R-T1 an unknown configured pipeline falls back to the first one", func(t *testing.T) {
			odd := e.ticketChannel(sb.KindChat, sb.RoutingRule{}, "No such pipeline", "Nope")
			r := e.inbound(odd.ID, "erin@x.test", "hi")
			k := e.ticket(r.Conversation.TicketID)
			ps := must(e.svc.ListPipelines(e.ctx, e.admin))(t)
			if k.PipelineID != ps[0].ID || k.StageID != ps[0].Stages[0].ID {
				t.Fatalf("ticket in %s/%s, want the first pipeline's first stage", k.PipelineID, k.StageID)
			}
		})
	})
}

func TestTicketOwnerFollowsAssignee(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		ch := e.ticketChannel(sb.KindEmail, sb.RoutingRule{}, "Support", "New")
		me := "me"
		t.Run("R-T2 the owner follows the first assignment of an unassigned conversation", func(t *testing.T) {
			r := e.inbound(ch.ID, "c1@x.test", "hello")
			if k := e.ticket(r.Conversation.TicketID); k.OwnerID != "" {
				t.Fatalf("unassigned conversation's ticket has owner %q", k.OwnerID)
			}
			must(e.svc.Assign(e.ctx, ann, r.Conversation.ID, app.AssignInput{UserID: &me}))(t)
			if k := e.ticket(r.Conversation.TicketID); k.OwnerID != ann.UserID || k.OwnerSetManually {
				t.Fatalf("R-T2: after the first assignment the owner is %q, want %q", k.OwnerID, ann.UserID)
			}
			if n := len(e.events(sb.EventTicketUpdated)); n != 1 {
				t.Fatalf("%d ticket.updated events, want 1", n)
			}
			must(e.svc.Assign(e.ctx, e.admin, r.Conversation.ID, app.AssignInput{UserID: &bob.UserID}))(t)
			if k := e.ticket(r.Conversation.TicketID); k.OwnerID != ann.UserID {
				t.Fatalf("R-T2: only the first assignment is followed; owner became %q", k.OwnerID)
			}
		})
		t.Run("R-T2 a reply that assigns (R-M3) is followed too", func(t *testing.T) {
			r := e.inbound(ch.ID, "c2@x.test", "hello")
			must(e.svc.Reply(e.ctx, bob, r.Conversation.ID, app.ReplyInput{Body: "on it"}))(t)
			if k := e.ticket(r.Conversation.TicketID); k.OwnerID != bob.UserID {
				t.Fatalf("owner %q, want %q", k.OwnerID, bob.UserID)
			}
		})
		t.Run("R-T2 an owner set by hand is kept", func(t *testing.T) {
			r := e.inbound(ch.ID, "c3@x.test", "hello")
			k := must(e.svc.UpdateTicket(e.ctx, ann, r.Conversation.TicketID, app.TicketPatch{OwnerID: app.SetString(bob.UserID)}))(t)
			if !k.OwnerSetManually || k.OwnerID != bob.UserID {
				t.Fatalf("after PATCH owner: %+v", k)
			}
			must(e.svc.Assign(e.ctx, ann, r.Conversation.ID, app.AssignInput{UserID: &me}))(t)
			if k := e.ticket(r.Conversation.TicketID); k.OwnerID != bob.UserID {
				t.Fatalf("R-T2: a manual owner must not follow the assignee; owner %q", k.OwnerID)
			}
			none := ""
			r2 := e.inbound(ch.ID, "c4@x.test", "hello")
			must(e.svc.UpdateTicket(e.ctx, e.admin, r2.Conversation.TicketID, app.TicketPatch{OwnerID: app.SetString(none)}))(t)
			must(e.svc.Assign(e.ctx, ann, r2.Conversation.ID, app.AssignInput{UserID: &me}))(t)
			if k := e.ticket(r2.Conversation.TicketID); k.OwnerID != "" {
				t.Fatalf("R-T2: an owner cleared by hand stays cleared; owner %q", k.OwnerID)
			}
		})
	})
}

// TestTicketOwnerFollowsDrain: a conversation that waited for capacity
// gets its owner when the backlog drains to someone (R-T2, R-X2).
func TestTicketOwnerFollowsDrain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 1)
		ch := e.ticketChannel(sb.KindChat, specific(ann), "Support", "New")
		first := e.inbound(ch.ID, "d1@x.test", "one")
		second := e.inbound(ch.ID, "d2@x.test", "two")
		if !second.Conversation.Waiting {
			t.Fatalf("the second chat should wait for ann's capacity: %+v", second.Conversation)
		}
		if k := e.ticket(second.Conversation.TicketID); k.OwnerID != "" {
			t.Fatalf("waiting conversation's ticket owner %q", k.OwnerID)
		}
		must(e.svc.SetOpen(e.ctx, ann, first.Conversation.ID, false))(t)
		if k := e.ticket(second.Conversation.TicketID); k.OwnerID != ann.UserID {
			t.Fatalf("R-T2: after the backlog drained to ann the owner is %q", k.OwnerID)
		}
	})
}

func TestTicketLimit(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		ch := e.ticketChannel(sb.KindEmail, specific(ann), "Support", "New")
		two := 2
		must(e.svc.UpdateTicketSettings(e.ctx, e.admin, app.TicketSettingsPatch{ContactLimit: &two}))(t)
		var last *app.InboundResult
		for i := range 3 {
			last = e.inbound(ch.ID, "busy@x.test", fmt.Sprintf("problem %d", i))
			if i < 2 {
				if last.Conversation.TicketID == "" {
					t.Fatalf("conversation %d has no ticket", i)
				}
				must(e.svc.SetOpen(e.ctx, e.admin, last.Conversation.ID, false))(t)
			}
		}
		t.Run("R-T3 at the limit no ticket is created, the conversation is flagged and routed as usual", func(t *testing.T) {
			c := last.Conversation
			if c.TicketID != "" {
				t.Fatalf("R-T3: ticket %q created past the limit", c.TicketID)
			}
			if c.AssigneeID != ann.UserID || c.Status != sb.StatusOpen {
				t.Fatalf("R-T3: nothing else may fail; conversation %+v", c)
			}
			fs := must(e.svc.ConversationFlags(e.ctx, e.admin, c.ID))(t)
			if len(fs) != 1 || fs[0].Flag != sb.FlagTicketLimitReached || fs[0].Detail == "" {
				t.Fatalf("R-T3: flags %+v", fs)
			}
			if ev := e.events(sb.EventConversationFlagged); len(ev) != 1 || ev[0].ConversationID != c.ID {
				t.Fatalf("conversation.flagged events %+v", ev)
			}
			if n := len(must(e.svc.ListTickets(e.ctx, e.admin, app.TicketQuery{ContactID: c.ContactID}))(t).Items); n != 2 {
				t.Fatalf("contact has %d tickets, want 2", n)
			}
		})
		t.Run("R-T3 creating one by hand at the limit is refused with a reason", func(t *testing.T) {
			_, err := e.svc.CreateTicket(e.ctx, e.admin, app.TicketInput{Name: "more", ContactID: last.Conversation.ContactID})
			if !sb.IsKind(err, sb.RuleViolation) {
				t.Fatalf("got %v, want a rule violation", err)
			}
		})
		t.Run("R-T3 raising the limit lets the next conversation have one", func(t *testing.T) {
			five := 5
			must(e.svc.UpdateTicketSettings(e.ctx, e.admin, app.TicketSettingsPatch{ContactLimit: &five}))(t)
			must(e.svc.SetOpen(e.ctx, e.admin, last.Conversation.ID, false))(t)
			if r := e.inbound(ch.ID, "busy@x.test", "again"); r.Conversation.TicketID == "" {
				t.Fatal("no ticket under the raised limit")
			}
		})
	})
}

func TestTicketsByHandAndVisibility(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann, bob := e.agent("ann", 0), e.agent("bob", 0)
		team := must(e.svc.CreateTeam(e.ctx, e.admin, app.TeamInput{Name: "Secret", MainMemberIDs: []string{ann.UserID}, ExtraMemberIDs: []string{e.admin.UserID}}))(t)
		hidden := e.ticketChannel(sb.KindEmail, sb.RoutingRule{}, "Support", "New", team.ID)
		open := e.channel(sb.KindEmail, sb.RoutingRule{})
		secret := e.inbound(hidden.ID, "s@x.test", "secret")
		plain := e.inbound(open.ID, "p@x.test", "plain")
		loose := must(e.svc.CreateTicket(e.ctx, bob, app.TicketInput{Name: "Call back", Description: "no conversation"}))(t)
		linked := must(e.svc.CreateTicket(e.ctx, bob, app.TicketInput{Name: "From plain", ConversationID: plain.Conversation.ID, StageID: "Closed"}))(t)
		t.Run("a ticket made for a conversation links both ways", func(t *testing.T) {
			if linked.ContactID != plain.Conversation.ContactID || linked.InboxID != plain.Conversation.InboxID {
				t.Fatalf("linked ticket %+v", linked)
			}
			if c := must(e.svc.GetConversation(e.ctx, bob, plain.Conversation.ID))(t); c.TicketID != linked.ID {
				t.Fatalf("conversation.ticket_id %q", c.TicketID)
			}
			_, err := e.svc.CreateTicket(e.ctx, bob, app.TicketInput{Name: "twice", ConversationID: plain.Conversation.ID})
			if !sb.IsKind(err, sb.Conflict) {
				t.Fatalf("second ticket for a conversation: %v, want conflict", err)
			}
		})
		ids := func(a app.Actor) []string {
			var out []string
			for _, k := range must(e.svc.ListTickets(e.ctx, a, app.TicketQuery{}))(t).Items {
				out = append(out, k.ID)
			}
			return out
		}
		t.Run("R-I4 users see tickets of conversations they may see; admins all", func(t *testing.T) {
			if got := ids(bob); slices.Contains(got, secret.Conversation.TicketID) || !slices.Contains(got, loose.ID) || !slices.Contains(got, linked.ID) {
				t.Fatalf("bob sees %v", got)
			}
			if _, err := e.svc.GetTicket(e.ctx, bob, secret.Conversation.TicketID); !sb.IsKind(err, sb.NotFound) {
				t.Fatalf("bob reads a hidden ticket: %v", err)
			}
			if _, err := e.svc.UpdateTicket(e.ctx, bob, secret.Conversation.TicketID, app.TicketPatch{StageID: tptr("Closed")}); !sb.IsKind(err, sb.NotFound) {
				t.Fatalf("bob moves a hidden ticket: %v", err)
			}
			if got := ids(ann); !slices.Contains(got, secret.Conversation.TicketID) {
				t.Fatalf("ann (in the team) sees %v", got)
			}
			if got := ids(e.admin); len(got) != 3 {
				t.Fatalf("admin sees %v, want all 3", got)
			}
		})
		t.Run("moving between stages and pipelines", func(t *testing.T) {
			sales := must(e.svc.CreatePipeline(e.ctx, e.admin, app.PipelineInput{Name: "Sales", Stages: []app.StageInput{{Name: "Lead"}, {Name: "Won"}}}))(t)
			k := must(e.svc.UpdateTicket(e.ctx, bob, loose.ID, app.TicketPatch{PipelineID: &sales.ID}))(t)
			if k.PipelineID != sales.ID || k.StageID != sales.Stages[0].ID {
				t.Fatalf("moved to %s/%s", k.PipelineID, k.StageID)
			}
			k = must(e.svc.UpdateTicket(e.ctx, bob, loose.ID, app.TicketPatch{StageID: tptr("won")}))(t)
			if k.StageID != sales.Stages[1].ID {
				t.Fatalf("stage %s, want Won", k.StageID)
			}
			if _, err := e.svc.UpdateTicket(e.ctx, bob, loose.ID, app.TicketPatch{StageID: tptr("New")}); !sb.IsKind(err, sb.Invalid) {
				t.Fatalf("a stage of another pipeline: %v", err)
			}
		})
		t.Run("paging and filters", func(t *testing.T) {
			p := must(e.svc.ListTickets(e.ctx, e.admin, app.TicketQuery{Limit: 2}))(t)
			if len(p.Items) != 2 || p.NextCursor == "" {
				t.Fatalf("first page %d items, cursor %q", len(p.Items), p.NextCursor)
			}
			p2 := must(e.svc.ListTickets(e.ctx, e.admin, app.TicketQuery{Limit: 2, Cursor: p.NextCursor}))(t)
			if len(p2.Items) != 1 || p2.NextCursor != "" || p2.Items[0].ID == p.Items[1].ID {
				t.Fatalf("second page %+v", p2)
			}
			mine := must(e.svc.ListTickets(e.ctx, ann, app.TicketQuery{ConversationID: secret.Conversation.ID}))(t)
			if len(mine.Items) != 1 {
				t.Fatalf("by conversation: %d", len(mine.Items))
			}
		})
	})
}

func TestPipelines(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		ps := must(e.svc.ListPipelines(e.ctx, ann))(t)
		if len(ps) != 1 || ps[0].Name != "Support" {
			t.Fatalf("default pipelines %+v", ps)
		}
		support := ps[0]
		if _, err := e.svc.CreatePipeline(e.ctx, ann, app.PipelineInput{Name: "Mine", Stages: []app.StageInput{{Name: "a"}}}); !sb.IsKind(err, sb.Forbidden) {
			t.Fatalf("agent creating a pipeline: %v", err)
		}
		if _, err := e.svc.CreatePipeline(e.ctx, e.admin, app.PipelineInput{Name: "support", Stages: []app.StageInput{{Name: "a"}}}); err != nil {
			t.Fatalf("names differing in case are distinct pipelines: %v", err)
		}
		if _, err := e.svc.CreatePipeline(e.ctx, e.admin, app.PipelineInput{Name: "Support", Stages: []app.StageInput{{Name: "a"}}}); !sb.IsKind(err, sb.Conflict) {
			t.Fatalf("duplicate name: %v", err)
		}
		if _, err := e.svc.CreatePipeline(e.ctx, e.admin, app.PipelineInput{Name: "Empty"}); !sb.IsKind(err, sb.Invalid) {
			t.Fatalf("no stages: %v", err)
		}
		k := must(e.svc.CreateTicket(e.ctx, ann, app.TicketInput{Name: "in New"}))(t)
		newID, waiting, closed := support.Stages[0].ID, support.Stages[1].ID, support.Stages[2].ID
		t.Run("stages are reordered, renamed and added, keeping ids", func(t *testing.T) {
			p := must(e.svc.UpdatePipeline(e.ctx, e.admin, support.ID, app.PipelinePatch{Stages: &[]app.StageInput{
				{ID: closed, Name: "Done"}, {ID: newID, Name: "New"}, {Name: "Escalated"}, {ID: waiting, Name: "Waiting"}}}))(t)
			got := []string{}
			for _, st := range p.Stages {
				got = append(got, st.Name)
			}
			if !slices.Equal(got, []string{"Done", "New", "Escalated", "Waiting"}) || p.Stages[0].ID != closed || p.Stages[2].ID == "" {
				t.Fatalf("stages %+v", p.Stages)
			}
			if again := must(e.svc.ListPipelines(e.ctx, ann))(t); again[0].Stages[0].Name != "Done" {
				t.Fatalf("stored stages %+v", again[0].Stages)
			}
		})
		t.Run("a stage holding tickets cannot be removed", func(t *testing.T) {
			_, err := e.svc.UpdatePipeline(e.ctx, e.admin, support.ID, app.PipelinePatch{Stages: &[]app.StageInput{{ID: closed, Name: "Done"}}})
			if !sb.IsKind(err, sb.RuleViolation) {
				t.Fatalf("removing stage New with ticket %s: %v", k.ID, err)
			}
			p := must(e.svc.UpdatePipeline(e.ctx, e.admin, support.ID, app.PipelinePatch{Stages: &[]app.StageInput{{ID: newID, Name: "New"}, {ID: closed, Name: "Done"}}}))(t)
			if len(p.Stages) != 2 {
				t.Fatalf("empty stages must be removable: %+v", p.Stages)
			}
		})
		t.Run("bad stage input", func(t *testing.T) {
			for _, in := range [][]app.StageInput{{{Name: "a"}, {Name: "A"}}, {{ID: "nope", Name: "x"}}, {{Name: " "}}} {
				if _, err := e.svc.UpdatePipeline(e.ctx, e.admin, support.ID, app.PipelinePatch{Stages: &in}); !sb.IsKind(err, sb.Invalid) {
					t.Errorf("stages %+v: %v, want invalid", in, err)
				}
			}
		})
	})
}

func tptr[T any](v T) *T { return &v }

func TestFormTickets(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		sales := must(e.svc.CreatePipeline(e.ctx, e.admin, app.PipelineInput{Name: "Sales", Stages: []app.StageInput{{Name: "Lead"}, {Name: "Won"}}}))(t)
		form := e.ticketChannel(sb.KindForm, sb.RoutingRule{}, "Support", "Waiting")
		submit := func(ch, email, meta string) *app.InboundResult {
			t.Helper()
			return must(e.svc.Inbound(e.ctx, e.admin, ch, app.InboundInput{Contact: app.InboundContact{Email: email}, Body: "form submission", Meta: json.RawMessage(meta)}))(t)
		}
		t.Run("R-T4 ticket fields name the ticket; hidden pipeline and stage override the channel's", func(t *testing.T) {
			r := submit(form.ID, "f1@x.test", `{"fields":{"company":"Acme"},"ticket":{"name":"Quote for 50 chairs","description":"Delivery in May","pipeline":"Sales","stage":"Won"}}`)
			k := e.ticket(r.Conversation.TicketID)
			if k.Name != "Quote for 50 chairs" || k.Description != "Delivery in May" || k.PipelineID != sales.ID || k.StageID != sales.Stages[1].ID {
				t.Fatalf("R-T4 ticket %+v", k)
			}
		})
		t.Run("R-T4 without hidden fields the channel's pipeline and stage apply", func(t *testing.T) {
			r := submit(form.ID, "f2@x.test", `{"ticket":{"name":"Just a name"}}`)
			k := e.ticket(r.Conversation.TicketID)
			support := must(e.svc.ListPipelines(e.ctx, e.admin))(t)[0]
			if k.Name != "Just a name" || k.PipelineID != support.ID || k.StageID != stageNamed(support, "Waiting") {
				t.Fatalf("ticket %+v", k)
			}
		})
		t.Run("R-T4 a form's ticket fields create a ticket even with the channel setting off", func(t *testing.T) {
			plainForm := e.channel(sb.KindForm, sb.RoutingRule{})
			r := submit(plainForm.ID, "f3@x.test", `{"ticket":{"name":"From the form","pipeline":"`+sales.ID+`"}}`)
			k := e.ticket(r.Conversation.TicketID)
			if k.PipelineID != sales.ID || k.StageID != sales.Stages[0].ID {
				t.Fatalf("ticket %+v", k)
			}
			if r := submit(plainForm.ID, "f4@x.test", `{"fields":{"x":"y"}}`); r.Conversation.TicketID != "" {
				t.Fatal("a submission without ticket fields on a channel without the setting made a ticket")
			}
		})
		t.Run("ticket fields only count on form channels", func(t *testing.T) {
			mail := e.channel(sb.KindEmail, sb.RoutingRule{})
			if r := submit(mail.ID, "f5@x.test", `{"ticket":{"name":"sneaky"}}`); r.Conversation.TicketID != "" {
				t.Fatal("an email's meta made a ticket")
			}
		})
	})
}

func TestTicketEventsReachTheLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ch := e.ticketChannel(sb.KindEmail, sb.RoutingRule{}, "Support", "New")
		r := e.inbound(ch.ID, "ev@x.test", "hello")
		tc := e.events(sb.EventTicketCreated)
		if len(tc) != 1 {
			t.Fatalf("%d ticket.created events", len(tc))
		}
		var k sb.Ticket
		if err := json.Unmarshal(tc[0].Data, &k); err != nil || k.ID != r.Conversation.TicketID {
			t.Fatalf("ticket.created data %s (%v)", tc[0].Data, err)
		}
		all, _ := mustTwo(e.svc.EventsSince(e.ctx, e.admin, 0, 1000))(t)
		pos := map[string]int{}
		for i, ev := range all {
			if _, ok := pos[ev.Type]; !ok {
				pos[ev.Type] = i
			}
		}
		if pos[sb.EventTicketCreated] < pos[sb.EventConversationCreated] {
			t.Fatal("ticket.created must follow conversation.created in the log")
		}
	})
}

// TestTicketOwnerFollowsReopen: a conversation that was unassigned when
// it closed, reopened by a reply in its thread and routed then, gives its
// ticket that first assignee — inside the routing batch (R-T2).
func TestTicketOwnerFollowsReopen(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ann := e.agent("ann", 0)
		must(e.svc.SetStatus(e.ctx, ann, "me", app.StatusInput{Status: sb.Away}))(t)
		ch := e.ticketChannel(sb.KindEmail, specific(ann), "Support", "New")
		r := e.inbound(ch.ID, "re@x.test", "first")
		if r.Conversation.AssigneeID != "" {
			t.Fatalf("ann is away; assigned to %q", r.Conversation.AssigneeID)
		}
		must(e.svc.SetOpen(e.ctx, e.admin, r.Conversation.ID, false))(t)
		must(e.svc.SetStatus(e.ctx, ann, "me", app.StatusInput{Status: sb.Available}))(t)
		if k := e.ticket(r.Conversation.TicketID); k.OwnerID != "" {
			t.Fatalf("closed conversation's ticket got owner %q", k.OwnerID)
		}
		again := must(e.svc.Inbound(e.ctx, e.admin, ch.ID, app.InboundInput{Contact: app.InboundContact{Email: "re@x.test"}, Body: "still broken", ConversationID: r.Conversation.ID}))(t)
		if again.Conversation.ID != r.Conversation.ID || again.Conversation.AssigneeID != ann.UserID {
			t.Fatalf("reopened conversation %+v", again.Conversation)
		}
		if k := e.ticket(r.Conversation.TicketID); k.OwnerID != ann.UserID {
			t.Fatalf("R-T2: after the reopened conversation was routed to ann the owner is %q", k.OwnerID)
		}
		if up := e.events(sb.EventTicketUpdated); len(up) != 1 || up[0].UserID != ann.UserID {
			t.Fatalf("ticket.updated events %+v, want one owned by ann", up)
		}
		if n := len(e.events(sb.EventTicketCreated)); n != 1 {
			t.Fatalf("R-T1: %d tickets for one conversation", n)
		}
	})
}

// TestTicketPagesOf200: a full page of 200 still says that more follow.
func TestTicketPagesOf200(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ps := must(e.svc.ListPipelines(e.ctx, e.admin))(t)
		var ks []*sb.Ticket
		for i := range 205 {
			ks = append(ks, &sb.Ticket{AccountID: e.admin.AccountID, PipelineID: ps[0].ID, StageID: ps[0].Stages[0].ID,
				Name: fmt.Sprint("t", i), CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()})
		}
		if err := e.store.Update(e.ctx, e.admin.AccountID, func(tx sb.Tx) error { return tx.CreateTickets(e.ctx, ks) }); err != nil {
			t.Fatal(err)
		}
		p := must(e.svc.ListTickets(e.ctx, e.admin, app.TicketQuery{Limit: 200}))(t)
		if len(p.Items) != 200 || p.NextCursor == "" {
			t.Fatalf("first page: %d items, cursor %q", len(p.Items), p.NextCursor)
		}
		p2 := must(e.svc.ListTickets(e.ctx, e.admin, app.TicketQuery{Limit: 200, Cursor: p.NextCursor}))(t)
		if len(p2.Items) != 5 || p2.NextCursor != "" {
			t.Fatalf("second page: %d items, cursor %q", len(p2.Items), p2.NextCursor)
		}
	})
}
