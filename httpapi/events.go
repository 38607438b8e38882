package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Replay bounds of the event stream.
const (
	replayPage = 500    // events read per query when replaying
	replayMax  = 10_000 // events looked at in one replay, at most
)

// events is GET /api/v1/events: a Server-Sent Events stream of the
// account's events the caller may see (R-I4: events about an inbox only
// for those with access to it; a user's status to everyone). Each event is
// written as id:, event: (its type) and data: (the Event as JSON) lines and
// flushed. A Last-Event-ID header first replays what came after that id.
// Every heartbeat interval a comment line keeps proxies from closing the
// connection, the caller is recorded as active (R-V2) and inbox access is
// read again.
func (s *server) events(w http.ResponseWriter, r *http.Request, a app.Actor) {
	ctx := r.Context()
	after, resume, err := lastEventID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	see, err := s.app.EventFilter(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Subscribe before replaying, so nothing falls between the two; the
	// stream skips live events the replay already sent.
	live := s.app.Store().Subscribe(ctx, a.AccountID)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: rc, last: after}
	if err := st.comment("connected"); err != nil {
		return
	}
	if resume {
		if err := s.replay(ctx, st, a); err != nil {
			s.streamEnded(r, err)
			return
		}
	}
	s.streamEnded(r, s.pump(ctx, st, a, see, live))
}

// lastEventID reads the Last-Event-ID header; resume is false without one.
func lastEventID(r *http.Request) (id int64, resume bool, err error) {
	v := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if v == "" {
		return 0, false, nil
	}
	id, err = strconv.ParseInt(v, 10, 64)
	if err != nil || id < 0 {
		return 0, false, &sb.Error{Op: "httpapi.events", Kind: sb.Invalid, Code: "invalid_last_event_id", Field: "Last-Event-ID",
			Message: "Last-Event-ID must be the id of an event this stream sent"}
	}
	return id, true, nil
}

// replay sends the visible events after st.last, oldest first, up to
// replayMax looked at.
func (s *server) replay(ctx context.Context, st *stream, a app.Actor) error {
	for looked := 0; looked < replayMax; looked += replayPage {
		evs, next, err := s.app.EventsSince(ctx, a, st.last, replayPage)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := st.send(e); err != nil {
				return err
			}
		}
		if next == st.last {
			return nil
		}
		st.last = next
	}
	return nil
}

// pump forwards live events until the client leaves or the subscription
// ends, with heartbeats in between.
func (s *server) pump(ctx context.Context, st *stream, a app.Actor, see func(sb.Event) bool, live <-chan sb.Event) error {
	tick := time.NewTicker(s.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-live:
			if !ok {
				return nil
			}
			if e.Type == sb.EventGap {
				// This stream fell behind and lost live events: send them
				// from the log, then go on live (skipping what was sent).
				st.last = max(st.last, e.ID)
				if err := s.replay(ctx, st, a); err != nil {
					return err
				}
				continue
			}
			if e.ID <= st.last || !see(e) {
				continue
			}
			if err := st.send(&e); err != nil {
				return err
			}
		case <-tick.C:
			if err := st.comment("ping"); err != nil {
				return err
			}

			s.app.Touch(ctx, a) // R-V2: an open live connection counts as active
			if f, err := s.app.EventFilter(ctx, a); err == nil {
				see = f
			} else if ctx.Err() == nil {
				s.log.WarnContext(ctx, "event stream: reading inbox access failed; keeping the previous one",
					"request_id", requestIDFrom(ctx), "err", err)
			}
		}
	}
}

// streamEnded logs why a stream ended early, if it was not the client
// leaving.
func (s *server) streamEnded(r *http.Request, err error) {
	if err != nil && r.Context().Err() == nil {
		s.log.WarnContext(r.Context(), "event stream ended", "request_id", requestIDFrom(r.Context()), "err", err)
	}
}

// stream writes Server-Sent Events and flushes each.
type stream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	last int64 // the id of the last event sent (or replayed past)
}

func (st *stream) send(e *sb.Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(st.w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, oneLine(e.Type), data); err != nil {
		return err
	}
	st.last = max(st.last, e.ID)
	return st.rc.Flush()
}

func (st *stream) comment(text string) error {
	if _, err := fmt.Fprintf(st.w, ": %s\n\n", text); err != nil {
		return err
	}
	return st.rc.Flush()
}

// oneLine keeps a value from breaking the event's framing.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
