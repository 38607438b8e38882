package widget_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/widget"
)

// TestLiveChat: over the WebSocket a visitor's message is acknowledged and
// routed; the agent's reply, typing and read state reach the widget; the
// visitor's typing and read reach the agents' event log; a close ends the
// chat in the widget.
func TestLiveChat(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		ann := e.agent(t, "Ann")
		ch := e.chat(t, open(nil), leastBusy(ann))
		v := e.dial(t, ch.ID, newToken(), "")
		st := v.next("state").State
		if st.Conversation != nil || st.Availability.Status != widget.StateAvailable {
			t.Fatalf("first state = %+v", st)
		}
		v.send(widget.Frame{Type: "message", ClientID: "m1", Body: "Hi, I need help", Email: "vera@example.com"})
		ack := v.next("ack")
		if ack.ClientID != "m1" || ack.Conversation == nil || ack.Conversation.AssigneeName != "Ann" || ack.Message.Body != "Hi, I need help" {
			t.Fatalf("ack = %+v", ack)
		}
		convID := ack.Conversation.ID

		if err := e.svc.AgentSignal(ctx, ann, convID, app.AgentSignalInput{Typing: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if f := v.next("typing"); f.Typing == nil || !*f.Typing || f.Name != "Ann" {
			t.Errorf("typing frame = %+v", f)
		}
		// R-V2: typing in a chat counts as being active in the inbox.
		if u, err := e.svc.GetUser(ctx, e.admin, ann.UserID); err != nil || time.Since(u.LastActiveAt) > time.Minute {
			t.Errorf("R-V2 Ann's last activity after typing = %v, %v", u.LastActiveAt, err)
		}
		if err := e.svc.AgentSignal(ctx, ann, convID, app.AgentSignalInput{MessageID: ack.Message.ID}); err != nil {
			t.Fatal(err)
		}
		if f := v.next("read"); f.MessageID != ack.Message.ID {
			t.Errorf("read frame = %+v", f)
		}
		rep, err := e.svc.Reply(ctx, ann, convID, app.ReplyInput{Body: "Hello Vera!"})
		if err != nil {
			t.Fatal(err)
		}
		if f := v.nextWhere("message", func(f widget.Frame) bool { return f.Message.Direction == "out" }); f.Message.ID != rep.Message.ID || f.Message.AuthorName != "Ann" {
			t.Errorf("reply frame = %+v", f.Message)
		}
		if _, err := e.svc.Reply(ctx, ann, convID, app.ReplyInput{Body: "note to self", Internal: true}); err != nil {
			t.Fatal(err)
		}
		// The visitor's typing and read go to the agents' event stream.
		v.send(widget.Frame{Type: "typing", Typing: ptr(true)})
		v.send(widget.Frame{Type: "read", MessageID: rep.Message.ID})
		waitEvent(t, e, ann, func(ev *sb.Event) bool { return ev.Type == app.EventChatRead && ev.ConversationID == convID })
		waitEvent(t, e, ann, func(ev *sb.Event) bool { return ev.Type == app.EventChatTyping && ev.ConversationID == convID })

		if _, err := e.svc.SetOpen(ctx, ann, convID, false); err != nil {
			t.Fatal(err)
		}
		if f := v.next("conversation"); f.Conversation.Status != sb.StatusClosed {
			t.Errorf("after close: %+v", f.Conversation)
		}
		// No internal note ever reached the widget.
		for {
			select {
			case f := <-v.frames:
				if f.Message != nil && f.Message.Body == "note to self" {
					t.Fatal("an internal note reached the visitor")
				}
				continue
			default:
			}
			break
		}
	})
}

// waitEvent polls the account's event log for an event the agent may see.
func waitEvent(t *testing.T, e *env, a app.Actor, ok func(*sb.Event) bool) *sb.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		evs, _, err := e.svc.EventsSince(context.Background(), a, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ok(ev) {
				return ev
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no such event within 10s")
	return nil
}

// TestReconnectWithoutLossOrDuplicates: a visitor whose connection drops
// re-sends its unacknowledged message with the same client id and resumes
// from its cursor: the message is stored once, and the replies sent while
// it was away arrive once.
func TestReconnectWithoutLossOrDuplicates(t *testing.T) {
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn)
		ctx := context.Background()
		ann := e.agent(t, "Ann")
		ch := e.chat(t, open(nil), leastBusy(ann))
		tok := newToken()
		v := e.dial(t, ch.ID, tok, "")
		v.next("state")
		v.send(widget.Frame{Type: "message", ClientID: "a1", Body: "first"})
		ack := v.next("ack")
		convID, cursor := ack.Conversation.ID, ack.Message.ID
		v.send(widget.Frame{Type: "message", ClientID: "a2", Body: "second"})
		v.ws.CloseNow() // the network drops before the ack is read
		if _, err := e.svc.Reply(ctx, ann, convID, app.ReplyInput{Body: "reply while away"}); err != nil {
			t.Fatal(err)
		}

		v2 := e.dial(t, ch.ID, tok, cursor)
		st := v2.next("state").State
		v2.send(widget.Frame{Type: "message", ClientID: "a2", Body: "second"}) // the outbox, re-sent
		ack2 := v2.next("ack")
		seen := map[string]int{}
		for _, m := range st.Messages {
			seen[m.Body]++
		}
		if ack2.Message.ID != "" {
			seen[ack2.Message.Body]++
		}
		// Any "message" frames queued now are live deliveries; drain briefly.
		drain := time.After(300 * time.Millisecond)
	loop:
		for {
			select {
			case f := <-v2.frames:
				if f.Type == "message" && f.Message.ID != ack2.Message.ID {
					seen[f.Message.Body]++
				}
			case <-drain:
				break loop
			}
		}
		if seen["first"] != 0 {
			t.Errorf("the message before the cursor came again: %v", seen)
		}
		if seen["reply while away"] != 1 {
			t.Errorf("the reply sent while away arrived %d times, want once: %v", seen["reply while away"], seen)
		}
		var bodies []string
		for _, m := range e.messages(t, convID) {
			bodies = append(bodies, m.Body)
		}
		count := 0
		for _, b := range bodies {
			if b == "second" {
				count++
			}
		}
		if count != 1 || len(bodies) != 3 {
			t.Errorf("thread = %q, want first, second (once) and the reply", bodies)
		}
	})
}

// TestRoutingThroughTheWidget proves the chat routing rules with visitors
// writing through the widget, each scenario on both databases.
func TestRoutingThroughTheWidget(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"R-A9 least busy, then recently active, then least recently assigned", leastBusyScenario},
		{"R-A10 R-X2 at capacity the visitor waits and is served oldest first", capacityScenario},
		{"R-A10 hide launcher when everyone is at capacity", hideLauncherScenario},
		{"R-A8 R-C2 contact owner by cookie token, new-visitor fallback", ownerScenario},
		{"R-A4 bot hand-over step picks only its users", botScenario},
		{"R-A3 only users with access to the chatflow's inbox", inboxAccessScenario},
		{"R-V3 reassign replies of an away agent", reassignScenario},
		{"R-V1 R-X1 R-V4 R-V5 availability follows the agents live", availabilityScenario},
		{"R-V4 R-V5 operating hours: outside hours shows the return time", hoursScenario},
		{"rate limit per visitor", rateLimitScenario},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			forEachDB(t, func(t *testing.T, dsn string) { sc.run(t, newEnv(t, dsn)) })
		})
	}
}

func leastBusyScenario(t *testing.T, e *env) {
	ann, bob := e.agent(t, "Ann"), e.agent(t, "Bob")
	ch := e.chat(t, open(nil), leastBusy(ann, bob))
	e.svc.Touch(context.Background(), bob) // R-V2: Bob was active just now
	first := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "one"})
	second := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "two"})
	e.svc.Touch(context.Background(), ann)
	third := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "three"})
	got := []string{first.Conversation.AssigneeName, second.Conversation.AssigneeName, third.Conversation.AssigneeName}
	// one: equal load, Bob recently active. two: Ann has fewer open chats.
	// three: equal load, both recently active; Bob was assigned longest ago.
	if got[0] != "Bob" || got[1] != "Ann" || got[2] != "Bob" {
		t.Errorf("assignees = %v, want [Bob Ann Bob]", got)
	}
}

func capacityScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann := e.agent(t, "Ann", capacity(1))
	rule := leastBusy(ann)
	rule.AtCapacity = sb.AtCapacityWaitingMessage
	ch := e.chat(t, open(map[string]any{"waiting_message": "Everyone is busy; you are in the queue."}), rule)
	first := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "first"})
	if first.Conversation.AssigneeName != "Ann" {
		t.Fatalf("first = %+v", first.Conversation)
	}
	// The next visitors wait; the widget says so.
	b := e.dial(t, ch.ID, newToken(), "")
	if st := b.next("state").State; !st.Availability.AtCapacity || !st.Availability.Waiting || st.Availability.Message != "Everyone is busy; you are in the queue." {
		t.Errorf("R-A10 state at capacity = %+v", st.Availability)
	}
	b.send(widget.Frame{Type: "message", ClientID: "b1", Body: "second"})
	ackB := b.next("ack")
	if !ackB.Conversation.Waiting || ackB.Conversation.AssigneeName != "" {
		t.Fatalf("second visitor: %+v, want waiting", ackB.Conversation)
	}
	c := e.dial(t, ch.ID, newToken(), "")
	c.next("state")
	c.send(widget.Frame{Type: "message", ClientID: "c1", Body: "third"})
	if ack := c.next("ack"); !ack.Conversation.Waiting {
		t.Fatalf("third visitor: %+v, want waiting", ack.Conversation)
	}
	// Ann closes the first chat: the oldest waiting visitor gets her at once (R-X2).
	if _, err := e.svc.SetOpen(ctx, ann, first.Conversation.ID, false); err != nil {
		t.Fatal(err)
	}
	f := b.nextWhere("conversation", func(f widget.Frame) bool { return f.Conversation.AssigneeName != "" })
	if f.Conversation.AssigneeName != "Ann" || f.Conversation.Waiting {
		t.Errorf("R-X2 the oldest waiting visitor sees %+v, want Ann", f.Conversation)
	}
	if got := e.conversation(t, ackB.Conversation.ID); got.AssigneeID != ann.UserID {
		t.Errorf("second conversation assignee = %q", got.AssigneeID)
	}
	third := e.state(t, ch.ID, c.token, "")
	if third.Conversation == nil || !third.Conversation.Waiting {
		t.Errorf("R-X2 the younger visitor still waits (capacity 1): %+v", third.Conversation)
	}
}

func hideLauncherScenario(t *testing.T, e *env) {
	ann := e.agent(t, "Ann", capacity(1))
	rule := leastBusy(ann)
	rule.AtCapacity = sb.AtCapacityHideLauncher
	ch := e.chat(t, open(nil), rule)
	if st := e.state(t, ch.ID, newToken(), ""); !st.Availability.Launcher {
		t.Fatalf("launcher hidden with capacity free: %+v", st.Availability)
	}
	v := e.dial(t, ch.ID, newToken(), "")
	v.next("state")
	e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "taking the only seat"})
	if f := v.next("availability"); f.Availability.Launcher || !f.Availability.AtCapacity {
		t.Errorf("R-A10 the open widget was told %+v, want the launcher hidden", f.Availability)
	}
}

func ownerScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann, bob := e.agent(t, "Ann"), e.agent(t, "Bob")
	rule := sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner, Fallback: sb.Fallback{Mode: sb.FallbackUser, UserID: ann.UserID}}
	ch := e.chat(t, open(map[string]any{"heading": map[string]any{"mode": "owner", "user_id": ann.UserID}}), rule)
	known := newToken()
	if _, err := e.svc.CreateContact(ctx, e.admin, app.ContactInput{Name: "Known", VisitorToken: known, OwnerID: bob.UserID}); err != nil {
		t.Fatal(err)
	}
	// R-C1: the heading names the visitor's owner, else the fallback user.
	if h := e.state(t, ch.ID, known, "").Channel.Heading; h != "Bob" {
		t.Errorf("heading for Bob's contact = %q", h)
	}
	if h := e.state(t, ch.ID, newToken(), "").Channel.Heading; h != "Ann" {
		t.Errorf("heading for a new visitor = %q, want the fallback Ann", h)
	}
	if got := e.post(t, ch.ID, widget.PostMessage{VisitorToken: known, Body: "hi"}); got.Conversation.AssigneeName != "Bob" {
		t.Errorf("R-A8 a visitor known by token went to %q, want the owner Bob", got.Conversation.AssigneeName)
	}
	if got := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "hi"}); got.Conversation.AssigneeName != "Ann" {
		t.Errorf("R-A8 a new visitor went to %q, want the fallback Ann", got.Conversation.AssigneeName)
	}
	// A visitor types the email of an owned contact: the token is linked
	// to it (R-C2); from then on the cookie identifies them (R-A8).
	if _, err := e.svc.CreateContact(ctx, e.admin, app.ContactInput{Email: "olga@example.com", Name: "Olga", OwnerID: bob.UserID}); err != nil {
		t.Fatal(err)
	}
	tok := newToken()
	first := e.post(t, ch.ID, widget.PostMessage{VisitorToken: tok, Email: "olga@example.com", Body: "it's Olga"})
	if first.Conversation == nil {
		t.Fatal("the visitor is not shown their own conversation")
	}
	if _, err := e.svc.SetOpen(ctx, ann, first.Conversation.ID, false); err != nil {
		if _, err := e.svc.SetOpen(ctx, e.admin, first.Conversation.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	olga, err := e.svc.GetContact(ctx, e.admin, e.conversation(t, first.Conversation.ID).ContactID)
	if err != nil || olga.VisitorToken != tok || olga.Email != "olga@example.com" {
		t.Fatalf("R-C2 the typed email did not link the token to the contact: %+v %v", olga, err)
	}
	// R-X4 would keep a returning visitor with Ann while she can take it;
	// she is away now, so the conversation is routed afresh.
	if _, err := e.svc.SetStatus(ctx, ann, ann.UserID, app.StatusInput{Status: sb.Away}); err != nil {
		t.Fatal(err)
	}
	again := e.post(t, ch.ID, widget.PostMessage{VisitorToken: tok, Body: "me again"})
	if again.Conversation.AssigneeName != "Bob" {
		t.Errorf("R-A8 the cookie linked by the typed email routes to %q, want the owner Bob", again.Conversation.AssigneeName)
	}
}

func botScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann, bob := e.agent(t, "Ann"), e.agent(t, "Bob")
	ch := e.chat(t, open(nil), leastBusy(ann, bob))
	// Bob is busier: without the bot step, Ann would get every chat.
	e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "x"})
	e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "y"})
	flow := app.Chatflow{Kind: app.ChatflowBot, Steps: []app.ChatflowStep{
		{Type: app.StepMessage, Text: "Hi! I'm the bot."},
		{Type: app.StepQuestion, Text: "What's your email?", Field: "email"},
		{Type: app.StepSendToMember, Text: "Connecting you to Bob.", UserIDs: []string{bob.UserID}},
	}}
	if _, err := e.svc.SetChatflow(ctx, e.admin, ch.ID, flow); err != nil {
		t.Fatal(err)
	}
	st := e.state(t, ch.ID, newToken(), "")
	if st.Channel.Chatflow.Kind != "bot" || len(st.Channel.Chatflow.Steps) != 3 || st.Channel.Chatflow.Steps[1].Field != "email" {
		t.Fatalf("the widget's chatflow = %+v", st.Channel.Chatflow)
	}
	res := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Email: "bot-user@example.com", Body: "after the bot"})
	if res.Conversation.AssigneeName != "Bob" {
		t.Fatalf("R-A4 the hand-over went to %q, want Bob (the step's only user)", res.Conversation.AssigneeName)
	}
	c := e.conversation(t, res.Conversation.ID)
	contact, err := e.svc.GetContact(ctx, e.admin, c.ContactID)
	if err != nil || contact.Email != "bot-user@example.com" {
		t.Errorf("the question's answer is not on the contact: %+v %v", contact, err)
	}
	recs, err := e.svc.RoutingRecord(ctx, e.admin, c.ID)
	if err != nil || len(recs) == 0 {
		t.Fatal(err)
	}
	for _, cand := range recs[0].Candidates {
		if cand.UserID == ann.UserID && cand.Dropped != sb.DropNotOnStep {
			t.Errorf("R-A4 Ann's record entry = %+v, want dropped %s", cand, sb.DropNotOnStep)
		}
	}
}

func inboxAccessScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann, bob := e.agent(t, "Ann"), e.agent(t, "Bob")
	team, err := e.svc.CreateTeam(ctx, e.admin, app.TeamInput{Name: "Web", MainMemberIDs: []string{ann.UserID, bob.UserID, e.admin.UserID}})
	if err != nil {
		t.Fatal(err)
	}
	ch := e.chat(t, open(nil), leastBusy(ann, bob), team.ID)
	e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "Ann gets this one"})
	// Bob leaves the team: he loses access to the chatflow's inbox.
	if _, err := e.svc.UpdateTeam(ctx, e.admin, team.ID, app.TeamPatch{MainMemberIDs: &[]string{ann.UserID, e.admin.UserID}}); err != nil {
		t.Fatal(err)
	}
	res := e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "Bob is less busy but has no access"})
	if res.Conversation.AssigneeName != "Ann" {
		t.Errorf("R-A3 went to %q, want Ann (Bob has no access to the inbox)", res.Conversation.AssigneeName)
	}
}

func reassignScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann, bob := e.agent(t, "Ann"), e.agent(t, "Bob")
	ch := e.chat(t, open(nil), leastBusy(ann))
	tok := newToken()
	v := e.dial(t, ch.ID, tok, "")
	v.next("state")
	v.send(widget.Frame{Type: "message", ClientID: "r1", Body: "hello"})
	ack := v.next("ack")
	if ack.Conversation.AssigneeName != "Ann" {
		t.Fatalf("first: %+v", ack.Conversation)
	}
	// Bob joins the rule; Ann goes away with "reassign replies" on.
	rule := leastBusy(ann, bob)
	if _, err := e.svc.UpdateChannel(ctx, e.admin, ch.ID, app.ChannelPatch{Routing: &rule}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStatus(ctx, ann, ann.UserID, app.StatusInput{Status: sb.Away, ReassignReplies: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	v.send(widget.Frame{Type: "message", ClientID: "r2", Body: "are you there?"})
	f := v.nextWhere("conversation", func(f widget.Frame) bool { return f.Conversation.AssigneeName == "Bob" })
	if f.Conversation.ID != ack.Conversation.ID {
		t.Errorf("R-V3 a new conversation %s instead of the same one rerouted", f.Conversation.ID)
	}
}

func availabilityScenario(t *testing.T, e *env) {
	ctx := context.Background()
	ann := e.agent(t, "Ann")
	ch := e.chat(t, open(map[string]any{"availability": map[string]any{"mode": "users", "reply_time": "two minutes", "away_message": "Back soon."}}), leastBusy(ann))
	v := e.dial(t, ch.ID, newToken(), "")
	if st := v.next("state").State.Availability; st.Status != widget.StateAvailable || st.Message != "We typically reply in two minutes." {
		t.Fatalf("R-V5 available: %+v", st)
	}
	// R-V1: Ann's own toggle.
	if _, err := e.svc.SetStatus(ctx, ann, ann.UserID, app.StatusInput{Status: sb.Away}); err != nil {
		t.Fatal(err)
	}
	if f := v.next("availability"); f.Availability.Status != widget.StateAway || f.Availability.Message != "Back soon." {
		t.Errorf("R-V4 R-V5 after Ann went away: %+v", f.Availability)
	}
	if _, err := e.svc.SetStatus(ctx, ann, ann.UserID, app.StatusInput{Status: sb.Available}); err != nil {
		t.Fatal(err)
	}
	if f := v.next("availability"); f.Availability.Status != widget.StateAvailable {
		t.Errorf("after Ann came back: %+v", f.Availability)
	}
	// R-X1: out of office counts as away, with no toggle.
	now := time.Now()
	ooo := []sb.DateRange{{From: now.Add(-time.Hour), To: now.Add(time.Hour)}}
	if _, err := e.svc.UpdateUser(ctx, e.admin, ann.UserID, app.UserPatch{OutOfOffice: &ooo}); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, ch.ID, newToken(), "").Availability; st.Status != widget.StateAway {
		t.Errorf("R-X1 Ann out of office: %+v, want away", st)
	}
}

func hoursScenario(t *testing.T, e *env) {
	ann := e.agent(t, "Ann")
	// Open only on the day after tomorrow (Amsterdam), 09:00-17:00.
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	day := time.Now().In(ams).AddDate(0, 0, 2)
	hours := []map[string]any{{"day": int(day.Weekday()), "start": 540, "end": 1020}}
	ch := e.chat(t, open(map[string]any{"availability": map[string]any{"mode": "hours", "hours": hours}}), leastBusy(ann))
	st := e.state(t, ch.ID, newToken(), "").Availability
	if st.Status != widget.StateOutsideHours || st.ReturnsAt == nil {
		t.Fatalf("outside hours: %+v", st)
	}
	want := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, ams)
	if !st.ReturnsAt.Equal(want) || st.Message != "We're back at 09:00 "+day.Weekday().String()+"." {
		t.Errorf("returns %v %q, want %v", st.ReturnsAt, st.Message, want)
	}
	hide := e.chat(t, open(map[string]any{"availability": map[string]any{"mode": "hours", "hours": hours, "outside_hours": "hide"}}), leastBusy(ann))
	if st := e.state(t, hide.ID, newToken(), "").Availability; st.Launcher {
		t.Errorf("outside hours with hide: %+v", st)
	}
}

func rateLimitScenario(t *testing.T, e *env) {
	ch := e.chat(t, open(nil), sb.RoutingRule{})
	tok := newToken()
	limited := 0
	for i := 0; i < 40; i++ {
		status, h, _ := e.call(t, "POST", "/widget/v1/"+ch.ID+"/messages", shop, widget.PostMessage{VisitorToken: tok, Body: "spam"})
		if status == 429 {
			limited++
			if h.Get("Access-Control-Allow-Origin") != shop {
				t.Error("a 429 without CORS headers cannot be read by the widget")
			}
		}
	}
	if limited == 0 {
		t.Error("40 messages in a burst from one visitor were all accepted")
	}
	// Another visitor is not affected.
	e.post(t, ch.ID, widget.PostMessage{VisitorToken: newToken(), Body: "hello"})
}

// TestSocketOutlivesServerTimeouts: the HTTP server's read and write
// timeouts (serve sets 60 s) do not cut a chat that lasts longer.
func TestSocketOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t, "sqlite:"+t.TempDir()+"/t.db", func(s *http.Server) { s.ReadTimeout, s.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond })
	ch := e.chat(t, open(nil), sb.RoutingRule{})
	v := e.dial(t, ch.ID, newToken(), "")
	v.next("state")
	time.Sleep(500 * time.Millisecond)
	v.send(widget.Frame{Type: "message", ClientID: "late", Body: "still here"})
	if ack := v.next("ack"); ack.ClientID != "late" {
		t.Fatalf("ack = %+v", ack)
	}
}
