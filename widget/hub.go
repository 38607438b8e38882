package widget

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// hub fans the store's events out to the open widget connections: one
// subscription per account with connections (not one per connection), and
// an index by conversation and contact, so that an event costs a map
// lookup whatever the number of open widgets.
type hub struct {
	w        *Widget
	mu       sync.Mutex
	accounts map[string]*feed
}

// feed is one account's subscription and its connections.
type feed struct {
	accountID string
	cancel    context.CancelFunc
	conns     map[*conn]struct{}
	byConv    map[string]map[*conn]struct{}
	byContact map[string]map[*conn]struct{}
	// Availability refresh (debounced), and the last state sent per channel.
	pending bool
	last    map[string]State
}

// item is what the hub hands a connection: an event, or a new
// availability state of its channel.
type item struct {
	event *sb.Event
	state *State
}

func newHub(w *Widget) *hub { return &hub{w: w, accounts: map[string]*feed{}} }

// join registers c under its account (subscribing on the first), its
// conversation and its contact.
func (h *hub) join(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.accounts[c.accountID]
	if f == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f = &feed{accountID: c.accountID, cancel: cancel, conns: map[*conn]struct{}{}, byConv: map[string]map[*conn]struct{}{},
			byContact: map[string]map[*conn]struct{}{}, last: map[string]State{}}
		h.accounts[c.accountID] = f
		events := h.w.app.Store().Subscribe(ctx, c.accountID)
		go h.run(ctx, f, events)
	}
	f.conns[c] = struct{}{}
	add(f.byConv, c.convID, c)
	add(f.byContact, c.contactID, c)
}

// follow re-indexes c after it learnt its conversation or contact.
func (h *hub) follow(c *conn, convID, contactID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.accounts[c.accountID]
	if f == nil {
		return
	}
	if convID != c.convID {
		remove(f.byConv, c.convID, c)
		c.convID = convID
		add(f.byConv, convID, c)
	}
	if contactID != c.contactID {
		remove(f.byContact, c.contactID, c)
		c.contactID = contactID
		add(f.byContact, contactID, c)
	}
}

// keys returns c's conversation and contact ids as indexed.
func (h *hub) keys(c *conn) (convID, contactID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.convID, c.contactID
}

// leave unregisters c; the last connection of an account ends its
// subscription.
func (h *hub) leave(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.accounts[c.accountID]
	if f == nil {
		return
	}
	delete(f.conns, c)
	remove(f.byConv, c.convID, c)
	remove(f.byContact, c.contactID, c)
	if len(f.conns) == 0 {
		f.cancel()
		delete(h.accounts, c.accountID)
	}
}

func add(m map[string]map[*conn]struct{}, key string, c *conn) {
	if key == "" {
		return
	}
	s := m[key]
	if s == nil {
		s = map[*conn]struct{}{}
		m[key] = s
	}
	s[c] = struct{}{}
}

func remove(m map[string]map[*conn]struct{}, key string, c *conn) {
	if s := m[key]; s != nil {
		delete(s, c)
		if len(s) == 0 {
			delete(m, key)
		}
	}
}

// run dispatches an account's events until its subscription ends, and
// re-evaluates availability every minute (operating hours and working
// hours change with the clock, R-X1, R-V4).
func (h *hub) run(ctx context.Context, f *feed, events <-chan sb.Event) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return
			}
			h.dispatch(f, &e)
		case <-tick.C:
			h.schedule(f)
		case <-ctx.Done():
			return
		}
	}
}

// dispatch hands e to the connections it concerns and schedules an
// availability refresh for changes that can move it.
func (h *hub) dispatch(f *feed, e *sb.Event) {
	if e.Type == sb.EventGap {
		// The feed fell behind and lost events: every widget re-reads.
		h.mu.Lock()
		to := make([]*conn, 0, len(f.conns))
		for c := range f.conns {
			to = append(to, c)
		}
		h.mu.Unlock()
		for _, c := range to {
			c.notify(item{event: e})
		}
		h.schedule(f)
		return
	}
	var contactID string
	if e.Type == sb.EventConversationCreated {
		var c struct {
			ContactID string `json:"contact_id"`
		}
		_ = json.Unmarshal(e.Data, &c)
		contactID = c.ContactID
	}
	h.mu.Lock()
	var to []*conn
	for c := range f.byConv[e.ConversationID] {
		to = append(to, c)
	}
	if contactID != "" {
		for c := range f.byContact[contactID] {
			if c.convID != e.ConversationID {
				to = append(to, c)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range to {
		c.notify(item{event: e})
	}
	switch e.Type {
	case sb.EventUserStatus, sb.EventConversationAssigned, sb.EventConversationStatus, sb.EventConversationCreated:
		h.schedule(f)
	}
}

// schedule refreshes the account's availability after the debounce,
// once however many changes come in meanwhile.
func (h *hub) schedule(f *feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f.pending {
		return
	}
	f.pending = true
	time.AfterFunc(h.w.opts.RefreshDebounce, func() { h.refresh(f) })
}

// refresh evaluates each channel with open widgets once and tells their
// connections when the state changed (R-V5, R-A10 shown live).
func (h *hub) refresh(f *feed) {
	h.mu.Lock()
	f.pending = false
	byChannel := map[string][]*conn{}
	for c := range f.conns {
		byChannel[c.ch.ID] = append(byChannel[c.ch.ID], c)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for chID, conns := range byChannel {
		v, err := h.w.app.ChatView(ctx, chID, "")
		if err != nil {
			h.w.log.Warn("widget: evaluating availability failed", "channel_id", chID, "err", err)
			continue
		}
		cfg, err := ParseConfig(v.Channel.Config)
		if err != nil {
			continue
		}
		st := availability(v, cfg)
		h.mu.Lock()
		changed := f.last[chID] != st
		f.last[chID] = st
		h.mu.Unlock()
		if !changed {
			continue
		}
		for _, c := range conns {
			c.notify(item{state: &st})
		}
	}
}

// seen records the availability a connection was sent at start, as the
// feed's last state of the channel if it has none yet.
func (h *hub) seen(accountID, channelID string, st State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.accounts[accountID]; f != nil {
		if _, ok := f.last[channelID]; !ok {
			f.last[channelID] = st
		}
	}
}
