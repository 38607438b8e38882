package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/httpapi"
)

// sse is one open event stream, read by a goroutine.
type sse struct {
	events   chan sseEvent
	comments chan string
}

type sseEvent struct {
	id, typ, data string
	ev            sb.Event
}

// openStream connects to GET /api/v1/events as token's user, checks the
// response against the document, and returns once the stream is live.
func (e *env) openStream(t *testing.T, token, lastEventID string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req := e.newRequest(t, "GET", "/api/v1/events", token, nil).WithContext(ctx)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	hr, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hr.Body.Close() })
	e.v.Check(t, req, hr, nil)
	if hr.StatusCode != http.StatusOK || !strings.HasPrefix(hr.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", hr.StatusCode, hr.Header.Get("Content-Type"))
	}
	s := &sse{events: make(chan sseEvent, 100), comments: make(chan string, 100)}
	go s.read(ctx, bufio.NewScanner(hr.Body))
	select {
	case c := <-s.comments:
		if c != "connected" {
			t.Fatalf("first comment %q", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not start")
	}
	return s
}

// read parses the stream into events and comments until it ends.
func (s *sse) read(ctx context.Context, sc *bufio.Scanner) {
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.typ != "" {
				select {
				case s.events <- cur:
				case <-ctx.Done():
					return
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ": "):
			select {
			case s.comments <- strings.TrimPrefix(line, ": "):
			case <-ctx.Done():
				return
			}
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// until reads events until one matches, failing on any event bad rejects.
func (s *sse) until(t *testing.T, match, bad func(sseEvent) bool) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-s.events:
			checkSchema(t, "Event", []byte(ev.data))
			if err := json.Unmarshal([]byte(ev.data), &ev.ev); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
			if ev.ev.Type != ev.typ || ev.id != strconv.FormatInt(ev.ev.ID, 10) {
				t.Fatalf("event lines id %s, event %s disagree with data %s", ev.id, ev.typ, ev.data)
			}
			if bad(ev) {
				t.Fatalf("got an event the user may not see: %s %+v", ev.typ, ev.ev)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatal("timed out waiting for an event")
		}
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, func(c *httpapi.Config) { c.HeartbeatInterval = 100 * time.Millisecond })
		e.setup(t)
		aID, a := e.user(t, "Ada", nil)
		bID, _ := e.user(t, "Bea", nil)
		mine := e.team(t, "Mine", []string{aID}, []string{e.adminID})
		theirs := e.team(t, "Theirs", []string{bID}, []string{e.adminID})
		seenInbox := e.inbox(t, "Seen", mine)
		seen := e.channel(t, seenInbox, "email", nil)
		hidden := e.channel(t, e.inbox(t, "Hidden", theirs), "email", nil)
		hiddenInbox := func(ev sseEvent) bool { return ev.ev.InboxID != "" && ev.ev.InboxID != seenInbox }

		s := e.openStream(t, a, "")
		hid := e.inbound(t, hidden, "h@x.test", "h-1").Conversation
		vis := e.inbound(t, seen, "v@x.test", "v-1").Conversation
		var created sseEvent
		t.Run("R-I4 an agent receives conversation.created for an inbox they can see", func(t *testing.T) {
			created = s.until(t, func(ev sseEvent) bool {
				return ev.typ == sb.EventConversationCreated && ev.ev.ConversationID == vis.ID
			}, func(ev sseEvent) bool { return ev.ev.ConversationID == hid.ID || hiddenInbox(ev) })
			if created.id == "" || created.ev.Type != created.typ || created.ev.InboxID != vis.InboxID {
				t.Fatalf("event %+v", created)
			}
		})
		t.Run("R-I4 nothing of the hidden inbox; user.status_changed reaches everyone", func(t *testing.T) {
			e.want(t, http.StatusOK, "PUT", "/api/v1/users/"+bID+"/status", e.admin, map[string]any{"status": "away"})
			s.until(t, func(ev sseEvent) bool { return ev.typ == sb.EventUserStatus && ev.ev.UserID == bID },
				func(ev sseEvent) bool { return ev.ev.ConversationID == hid.ID || hiddenInbox(ev) })
		})
		t.Run("heartbeat comments keep the stream alive", func(t *testing.T) {
			select {
			case c := <-s.comments:
				if c != "ping" {
					t.Fatalf("comment %q", c)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no heartbeat")
			}
		})
		t.Run("Last-Event-ID replays what came after it, filtered", func(t *testing.T) {
			r := e.openStream(t, a, "0")
			got := r.until(t, func(ev sseEvent) bool { return ev.id == created.id },
				func(ev sseEvent) bool { return ev.ev.ConversationID == hid.ID || hiddenInbox(ev) })
			if got.typ != sb.EventConversationCreated {
				t.Fatalf("replayed %+v", got)
			}
			later := e.inbound(t, seen, "w@x.test", "v-2").Conversation
			r.until(t, func(ev sseEvent) bool {
				return ev.typ == sb.EventConversationCreated && ev.ev.ConversationID == later.ID
			},
				func(ev sseEvent) bool { return ev.id == created.id || hiddenInbox(ev) })
		})
		t.Run("a bad Last-Event-ID answers 400", func(t *testing.T) {
			req := e.newRequest(t, "GET", "/api/v1/events", a, nil)
			req.Header.Set("Last-Event-ID", "yesterday")
			checkErr(t, e.send(t, req, false), http.StatusBadRequest, "invalid_last_event_id", "Last-Event-ID")
		})
		t.Run("no token answers 401", func(t *testing.T) {
			e.want(t, http.StatusUnauthorized, "GET", "/api/v1/events", "", nil)
		})
	})
}

// lossyStore loses every message.created event on its subscriptions, as
// a subscriber that fell behind does, and sends the gap marker the real
// store sends then.
type lossyStore struct{ sb.Store }

func (s lossyStore) Subscribe(ctx context.Context, accountID string) <-chan sb.Event {
	in := s.Store.Subscribe(ctx, accountID)
	out := make(chan sb.Event, 64)
	go func() {
		defer close(out)
		for e := range in {
			if e.Type == sb.EventMessageCreated {
				e = sb.Event{ID: e.ID - 1, AccountID: e.AccountID, Type: sb.EventGap}
			}
			out <- e
		}
	}()
	return out
}

// An event stream that lost live events sends them from the log when told
// of the gap, in order, and nothing twice (R-X7: live events reach agents).
func TestEventsRecoverFromAGap(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, dsn string) {
		e := newEnvWrapped(t, dsn, func(s sb.Store) sb.Store { return lossyStore{s} })
		e.setup(t)
		ch := e.channel(t, e.inbox(t, "Support"), "email", nil)
		s := e.openStream(t, e.admin, "")
		conv := e.inbound(t, ch, "c@x.test", "first").Conversation
		var seen []string
		s.until(t, func(ev sseEvent) bool {
			seen = append(seen, ev.typ+" "+ev.id)
			return ev.typ == sb.EventMessageCreated && ev.ev.ConversationID == conv.ID
		}, func(ev sseEvent) bool { return ev.typ == sb.EventGap })
		more := e.inbound(t, ch, "c@x.test", "second")
		got := s.until(t, func(ev sseEvent) bool {
			seen = append(seen, ev.typ+" "+ev.id)
			return ev.typ == sb.EventMessageCreated && ev.ev.ConversationID == conv.ID && strings.Contains(ev.data, "second")
		}, func(ev sseEvent) bool { return ev.typ == sb.EventGap })
		if got.ev.ConversationID != more.Conversation.ID {
			t.Fatalf("second message event %+v", got.ev)
		}
		ids := map[string]bool{}
		for _, x := range seen {
			if ids[x] {
				t.Fatalf("event sent twice: %s (all: %v)", x, seen)
			}
			ids[x] = true
		}
	})
}
