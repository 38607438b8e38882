package widget

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// WebSocket timing.
const (
	pingEvery    = 25 * time.Second
	writeTimeout = 10 * time.Second
	typingEvery  = 2 * time.Second // at most one "typing" signal per connection per interval
	inboxSize    = 64
	maxFrame     = 64 << 10
)

// Frame is one WebSocket message, in either direction. Type says which
// fields are set:
//
// visitor → server:
//   - "message": ClientID, Body, and optionally Name, Email, Phone;
//   - "typing": Typing;
//   - "read": MessageID (read up to it).
//
// server → visitor:
//   - "state": State (the first frame, and after a resync);
//   - "ack": ClientID, Message, Conversation, Duplicate: a message stored;
//   - "message": Message: a reply (or the visitor's own message sent from
//     another tab);
//   - "conversation": Conversation: assigned, closed, waiting changed;
//   - "typing": Typing, Name: the agent is (not) typing;
//   - "read": MessageID: the agent has read up to it;
//   - "availability": Availability: the channel's state changed (R-V5);
//   - "error": ClientID (if about a message), Error.
type Frame struct {
	Type         string               `json:"type"`
	ClientID     string               `json:"client_id,omitempty"`
	Body         string               `json:"body,omitempty"`
	Name         string               `json:"name,omitempty"`
	Email        string               `json:"email,omitempty"`
	Phone        string               `json:"phone,omitempty"`
	Typing       *bool                `json:"typing,omitempty"`
	MessageID    string               `json:"message_id,omitempty"`
	State        *StateResponse       `json:"state,omitempty"`
	Message      *VisitorMessage      `json:"message,omitempty"`
	Conversation *VisitorConversation `json:"conversation,omitempty"`
	Duplicate    bool                 `json:"duplicate,omitempty"`
	Availability *State               `json:"availability,omitempty"`
	Error        *errorDetail         `json:"error,omitempty"`

	started bool // an ack whose message started its conversation
}

// conn is one visitor's open WebSocket. Its reader goroutine takes the
// visitor's frames; its writer goroutine (serve) owns the socket's writes,
// the thread cursor and the set of messages already sent, so that
// replayed and live messages are sent exactly once.
type conn struct {
	w         *Widget
	ws        *websocket.Conn
	ch        *sb.Channel
	cfg       *Config
	accountID string
	token     string
	ip        string
	company   string
	// convID and contactID are the hub's index keys (guarded by hub.mu).
	convID    string
	contactID string

	inbox chan item  // from the hub
	out   chan Frame // from the reader
	lost  chan struct{}
	// pending holds the client ids of messages this connection is
	// storing, until their ack is written.
	pending sync.Map

	// Owned by the writer.
	cursor string
	sent   map[string]bool
	names  map[string]string
}

// websocket is GET /widget/v1/{channel_id}/ws?visitor_token=&after=: the
// live chat (R-C1 … R-C3). Origins not allowed by the channel are refused
// with 403 before the upgrade.
func (w *Widget) websocket(rw http.ResponseWriter, r *http.Request) {
	ch, cfg, ok := w.entry(rw, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("visitor_token")
	if err := checkToken("widget.ws", token); err != nil {
		w.fail(rw, r, err)
		return
	}
	ip := clientIP(r)
	if !w.limits.openConn(ip) {
		w.fail(rw, r, sb.E("widget.ws", sb.RateLimited, "too_many_connections", "too many open chats from this address"))
		return
	}
	defer w.limits.closeConn(ip)
	// A chat lasts as long as the visitor stays: no server timeout may
	// apply to the hijacked connection (net/http clears them on hijack
	// today; its documentation leaves that to the caller).
	rc := http.NewResponseController(rw)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ws, err := websocket.Accept(rw, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept answered the client
	}
	ws.SetReadLimit(maxFrame)
	c := &conn{w: w, ws: ws, ch: ch, cfg: cfg, accountID: ch.AccountID, token: token, ip: ip,
		inbox: make(chan item, inboxSize), out: make(chan Frame, 8), lost: make(chan struct{}), sent: map[string]bool{}}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	err = c.serve(ctx, r.URL.Query().Get("after"))
	switch {
	case err == nil, ctx.Err() != nil, websocket.CloseStatus(err) != -1:
		ws.Close(websocket.StatusNormalClosure, "")
	default:
		w.log.Debug("widget socket ended", "channel_id", ch.ID, "err", err)
		ws.Close(websocket.StatusTryAgainLater, "reconnect")
	}
}

// serve runs the connection until the visitor leaves or it fails.
func (c *conn) serve(ctx context.Context, after string) error {
	// Join the hub before reading the thread, so that nothing falls
	// between the two; the cursor and the sent set drop what the replay
	// already had.
	c.w.hub.join(c)
	defer c.w.hub.leave(c)
	if err := c.sendState(ctx, after); err != nil {
		return err
	}
	readErr := make(chan error, 1)
	go func() { readErr <- c.read(ctx) }()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	resync := time.NewTicker(c.w.opts.Resync)
	defer resync.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case err = <-readErr:
			return err
		case <-c.lost:
			return errors.New("the connection fell behind")
		case f := <-c.out:
			err = c.sendAck(ctx, f)
		case it := <-c.inbox:
			err = c.handle(ctx, it)
		case <-resync.C:
			err = c.sync(ctx)
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err = c.ws.Ping(pctx)
			cancel()
		}
		if err != nil {
			return err
		}
	}
}

// notify queues an item from the hub. A connection whose queue is full is
// dropped: its widget reconnects and resumes from its cursor, so nothing
// is lost, and a stuck client cannot hold the hub up.
func (c *conn) notify(it item) {
	select {
	case c.inbox <- it:
	default:
		select {
		case <-c.lost:
		default:
			close(c.lost)
		}
	}
}

func (c *conn) write(ctx context.Context, f Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageText, b)
}

// sendState sends the first frame: settings, availability and the open
// conversation's messages after the client's cursor.
func (c *conn) sendState(ctx context.Context, after string) error {
	v, err := c.w.app.ChatView(ctx, c.ch.ID, c.token)
	if err != nil {
		return err
	}
	c.names, c.company = v.Names, v.Account.Name
	st := &StateResponse{Channel: channelInfo(v, c.cfg), Availability: availability(v, c.cfg), Messages: []VisitorMessage{}}
	c.w.hub.seen(c.accountID, c.ch.ID, st.Availability)
	contactID, convID := "", ""
	if v.Contact != nil {
		contactID = v.Contact.ID
	}
	open := v.Conversation != nil && v.Conversation.Status == sb.StatusOpen
	if open {
		convID = v.Conversation.ID
	}
	// Index the connection under its conversation before reading the
	// thread: a reply committed after the read is then queued for it.
	c.w.hub.follow(c, convID, contactID)
	c.cursor = after
	if conv := v.Conversation; open {
		st.Conversation = visitorConversation(conv, v.Names)
		ms, err := c.w.app.VisitorMessages(ctx, c.ch.ID, c.token, conv.ID, after)
		if err != nil {
			return err
		}
		st.Messages = visitorMessages(ms, v.Names, c.company)
		c.markSent(ms)
	}
	st.Cursor = c.cursor
	return c.write(ctx, Frame{Type: "state", State: st})
}

// learn adds a user's name to the connection's names.
func (c *conn) learn(ctx context.Context, userID string) {
	if c.names == nil {
		c.names = map[string]string{}
	}
	for id, n := range c.w.names(ctx, c.accountID, userID) {
		c.names[id] = n
	}
}

func (c *conn) markSent(ms []*sb.Message) {
	for _, m := range ms {
		c.sent[m.ID] = true
		c.cursor = m.ID
	}
}

// sync sends the conversation's messages after the cursor that were not
// sent yet.
func (c *conn) sync(ctx context.Context) error {
	convID, _ := c.w.hub.keys(c)
	if convID == "" {
		return nil
	}
	ms, err := c.w.app.VisitorMessages(ctx, c.ch.ID, c.token, convID, c.cursor)
	if sb.IsKind(err, sb.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !c.sent[m.ID] {
			if m.AuthorUserID != "" && c.names[m.AuthorUserID] == "" {
				c.learn(ctx, m.AuthorUserID)
			}
			vm := visitorMessage(m, c.names, c.company)
			if err := c.write(ctx, Frame{Type: "message", Message: &vm}); err != nil {
				return err
			}
		}
	}
	c.markSent(ms)
	return nil
}

// sendAck writes the reader's answer to a message frame, following a
// conversation the message started.
func (c *conn) sendAck(ctx context.Context, f Frame) error {
	if f.Message != nil {
		c.sent[f.Message.ID] = true
	}
	defer c.pending.Delete(f.ClientID)
	adopted := false
	if conv := f.Conversation; conv != nil {
		if convID, contactID := c.w.hub.keys(c); conv.ID != convID {
			c.w.hub.follow(c, conv.ID, contactID)
			c.cursor, adopted = "", true
		}
	}
	if err := c.write(ctx, f); err != nil {
		return err
	}
	switch {
	case adopted && f.started:
		c.cursor = f.Message.ID // the message is the whole thread: nothing to read
	case adopted:
		return c.sync(ctx) // a conversation open elsewhere: its thread up to here
	}
	return nil
}

// handle turns a hub item into frames.
func (c *conn) handle(ctx context.Context, it item) error {
	if it.state != nil {
		return c.write(ctx, Frame{Type: "availability", Availability: it.state})
	}
	e := it.event
	if e.Type == sb.EventGap {
		return c.sync(ctx) // the account's feed lost events: re-read the thread now
	}
	convID, contactID := c.w.hub.keys(c)
	switch e.Type {
	case sb.EventMessageCreated:
		// The event carries the message: send it from there, with no read.
		// The cursor moves only in sync, which re-reads the thread on every
		// resync, so a message whose event was dropped still arrives.
		var m sb.Message
		if err := json.Unmarshal(e.Data, &m); err != nil || m.ConversationID != convID {
			return c.sync(ctx)
		}
		if m.Direction == sb.DirectionNote || c.sent[m.ID] {
			return nil
		}
		if id := clientIDOf(&m); id != "" {
			if _, pending := c.pending.Load(id); pending {
				return nil // this connection's own message: its ack carries it
			}
		}
		if m.AuthorUserID != "" && c.names[m.AuthorUserID] == "" {
			c.learn(ctx, m.AuthorUserID)
		}
		vm := visitorMessage(&m, c.names, c.company)
		c.sent[m.ID] = true
		return c.write(ctx, Frame{Type: "message", Message: &vm})
	case sb.EventConversationCreated, sb.EventConversationAssigned, sb.EventConversationStatus:
		var conv sb.Conversation
		if err := json.Unmarshal(e.Data, &conv); err != nil || (conv.ID != convID && conv.ContactID != contactID) {
			return nil
		}
		if conv.ID != convID {
			if conv.Status != sb.StatusOpen {
				return nil
			}
			c.w.hub.follow(c, conv.ID, contactID) // a chat started from another tab
			c.cursor = ""
		}
		if conv.AssigneeID != "" && c.names[conv.AssigneeID] == "" {
			c.learn(ctx, conv.AssigneeID)
		}
		if err := c.write(ctx, Frame{Type: "conversation", Conversation: visitorConversation(&conv, c.names)}); err != nil {
			return err
		}
		if conv.ID != convID {
			return c.sync(ctx) // the adopted conversation's thread
		}
		return nil
	case app.EventChatTyping, app.EventChatRead:
		var sig struct {
			From      string `json:"from"`
			UserID    string `json:"user_id"`
			Typing    *bool  `json:"typing"`
			MessageID string `json:"message_id"`
		}
		if err := json.Unmarshal(e.Data, &sig); err != nil || sig.From != "agent" {
			return nil
		}
		if e.Type == app.EventChatRead {
			return c.write(ctx, Frame{Type: "read", MessageID: sig.MessageID})
		}
		if c.names[sig.UserID] == "" {
			c.learn(ctx, sig.UserID)
		}
		return c.write(ctx, Frame{Type: "typing", Typing: sig.Typing, Name: c.names[sig.UserID]})
	}
	return nil
}

// read takes the visitor's frames until the socket closes.
func (c *conn) read(ctx context.Context) error {
	var lastTyping time.Time
	var lastRead string
	for {
		_, b, err := c.ws.Read(ctx)
		if err != nil {
			return err
		}
		var f Frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.reply(ctx, Frame{Type: "error", Error: &errorDetail{Code: "invalid_json", Message: "frames are JSON objects with a type"}})
			continue
		}
		switch f.Type {
		case "message":
			if f.ClientID != "" {
				c.pending.Store(f.ClientID, struct{}{})
			}
			res, err := c.w.deliver(ctx, c.ch, PostMessage{VisitorToken: c.token, Name: f.Name, Email: f.Email, Phone: f.Phone, Body: f.Body, ClientID: f.ClientID}, c.ip)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d := describe(err)
				c.reply(ctx, Frame{Type: "error", ClientID: f.ClientID, Error: &d})
				continue
			}
			c.reply(ctx, Frame{Type: "ack", ClientID: f.ClientID, Message: &res.Message, Conversation: res.Conversation, Duplicate: res.Duplicate, started: res.started})
		case "typing":
			if f.Typing == nil || (*f.Typing && time.Since(lastTyping) < typingEvery) {
				continue
			}
			if *f.Typing {
				lastTyping = time.Now()
			} else {
				lastTyping = time.Time{}
			}
			c.signal(ctx, f.Typing, "")
		case "read":
			if f.MessageID == "" || f.MessageID == lastRead {
				continue
			}
			lastRead = f.MessageID
			c.signal(ctx, nil, f.MessageID)
		}
	}
}

// reply hands a frame to the writer.
func (c *conn) reply(ctx context.Context, f Frame) {
	select {
	case c.out <- f:
	case <-ctx.Done():
	}
}

// signal records the visitor's typing or read state for the agents.
func (c *conn) signal(ctx context.Context, typing *bool, readID string) {
	convID, _ := c.w.hub.keys(c)
	if convID == "" || !c.w.limits.allowVisitor(c.token, c.ip) {
		return
	}
	if err := c.w.app.VisitorSignal(ctx, c.ch.ID, c.token, convID, typing, readID); err != nil && ctx.Err() == nil && !sb.IsKind(err, sb.NotFound) {
		c.w.log.Warn("widget: recording a visitor signal failed", "channel_id", c.ch.ID, "err", err)
	}
}
