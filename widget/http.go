package widget

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // account time zones must not depend on the host's zone files

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// maxPostBytes bounds a visitor's POST body.
const maxPostBytes = 64 << 10

// ChannelInfo is the widget's look and behaviour (R-C1).
type ChannelInfo struct {
	ID             string   `json:"id"`
	Color          string   `json:"color"`
	Position       string   `json:"position"`
	Heading        string   `json:"heading"`
	WelcomeMessage string   `json:"welcome_message,omitempty"`
	PopOpen        bool     `json:"pop_open"`
	PopOpenDelay   int      `json:"pop_open_delay"`
	Chatflow       BotSteps `json:"chatflow"`
}

// BotSteps is a chatflow as the visitor's widget runs it: the steps
// without the hand-over's users, which stay on the server (R-A4).
type BotSteps struct {
	Kind  string    `json:"kind"`
	Steps []BotStep `json:"steps"`
}

// BotStep is one step the widget shows.
type BotStep struct {
	Type  string `json:"type"`
	Text  string `json:"text,omitempty"`
	Field string `json:"field,omitempty"`
}

// VisitorConversation is the visitor's conversation as they may see it.
type VisitorConversation struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// AssigneeName is who answers, once someone is assigned.
	AssigneeName string `json:"assignee_name,omitempty"`
	// Waiting: in the queue until someone frees up (R-A10, R-X2).
	Waiting bool `json:"waiting"`
}

// VisitorMessage is a message as the visitor sees it: their own ("in",
// with the client_id their widget gave it) and the replies ("out", with
// the author's name). Internal notes never reach the widget.
type VisitorMessage struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id,omitempty"`
	Direction  string    `json:"direction"`
	Body       string    `json:"body"`
	AuthorName string    `json:"author_name,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// StateResponse is GET /widget/v1/{channel_id}/state and the WebSocket's
// first frame: the widget's settings, the channel's availability (R-V5)
// and the visitor's open conversation with its messages after the cursor.
type StateResponse struct {
	Channel      ChannelInfo          `json:"channel"`
	Availability State                `json:"availability"`
	Conversation *VisitorConversation `json:"conversation"`
	Messages     []VisitorMessage     `json:"messages"`
	// Cursor is the id of the last message; pass it as after= to get only
	// newer ones.
	Cursor string `json:"cursor,omitempty"`
}

// PostMessage is POST /widget/v1/{channel_id}/messages.
type PostMessage struct {
	VisitorToken string `json:"visitor_token"`
	Name         string `json:"name,omitempty"`
	Email        string `json:"email,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Body         string `json:"body"`
	// ClientID is the widget's id for the message: sending it again (after
	// a lost connection) stores it once.
	ClientID string `json:"client_id,omitempty"`
}

// PostResult answers a visitor's message.
type PostResult struct {
	Conversation *VisitorConversation `json:"conversation,omitempty"`
	Message      VisitorMessage       `json:"message"`
	Duplicate    bool                 `json:"duplicate"`
	// started: the message started the conversation, so it is the whole
	// thread so far.
	started bool
}

// originOK is the embedding check: a request without Origin (not from a
// web page) and one from the server's own pages pass; a page elsewhere
// must be in config.allowed_origins.
func originOK(r *http.Request, cfg *Config) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if u, err := url.Parse(o); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return cfg.allows(o)
}

// allowCORS answers an allowed cross-origin request's CORS headers.
func allowCORS(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		h.Set("Access-Control-Allow-Origin", o)
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
	}
}

// preflight answers CORS preflights: 204 with the headers for allowed
// origins, 403 for others.
func (w *Widget) preflight(rw http.ResponseWriter, r *http.Request) {
	_, cfg, err := w.channel(r.Context(), r.PathValue("channel_id"))
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if !originOK(r, cfg) {
		w.fail(rw, r, errOrigin)
		return
	}
	allowCORS(rw, r)
	rw.WriteHeader(http.StatusNoContent)
}

// entry runs the checks every visitor request starts with: the client
// address's rate, the channel, and the origin. It writes the error and
// returns false if one fails.
func (w *Widget) entry(rw http.ResponseWriter, r *http.Request) (*sb.Channel, *Config, bool) {
	ip := clientIP(r)
	if !w.limits.allowIP(ip) {
		rw.Header().Set("Retry-After", "1")
		w.fail(rw, r, errRateLimited)
		return nil, nil, false
	}
	ch, cfg, err := w.channel(r.Context(), r.PathValue("channel_id"))
	if err != nil {
		w.fail(rw, r, err)
		return nil, nil, false
	}
	if !originOK(r, cfg) {
		w.fail(rw, r, errOrigin)
		return nil, nil, false
	}
	allowCORS(rw, r)
	return ch, cfg, true
}

// state is GET /widget/v1/{channel_id}/state?visitor_token=&after=.
func (w *Widget) state(rw http.ResponseWriter, r *http.Request) {
	ch, cfg, ok := w.entry(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	token := q.Get("visitor_token")
	if token != "" {
		if err := checkToken("widget.state", token); err != nil {
			w.fail(rw, r, err)
			return
		}
	}
	st, err := w.visitorState(r.Context(), ch.ID, cfg, token, q.Get("after"))
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, st)
}

// visitorState builds the state a visitor's widget shows.
func (w *Widget) visitorState(ctx context.Context, channelID string, cfg *Config, token, after string) (*StateResponse, error) {
	v, err := w.app.ChatView(ctx, channelID, token)
	if err != nil {
		return nil, err
	}
	st := &StateResponse{Channel: channelInfo(v, cfg), Availability: availability(v, cfg), Messages: []VisitorMessage{}}
	if c := v.Conversation; c != nil && c.Status == sb.StatusOpen {
		st.Conversation = visitorConversation(c, v.Names)
		ms, err := w.app.VisitorMessages(ctx, channelID, token, c.ID, after)
		if err != nil {
			return nil, err
		}
		st.Messages = visitorMessages(ms, v.Names, v.Account.Name)
		st.Cursor = after
		if n := len(ms); n > 0 {
			st.Cursor = ms[n-1].ID
		}
	}
	return st, nil
}

// availability evaluates the channel's state for the view.
func availability(v *app.ChatView, cfg *Config) State {
	return Evaluate(cfg.Availability, location(v.Account.TimeZone), v.Now, v.Staffing, v.Channel.Routing.AtCapacity, cfg.WaitingMessage)
}

func channelInfo(v *app.ChatView, cfg *Config) ChannelInfo {
	info := ChannelInfo{ID: v.Channel.ID, Color: cfg.Color, Position: cfg.Position, Heading: heading(v, cfg),
		WelcomeMessage: cfg.WelcomeMessage, PopOpen: cfg.PopOpen, PopOpenDelay: cfg.PopOpenDelay,
		Chatflow: BotSteps{Kind: v.Chatflow.Kind, Steps: []BotStep{}}}
	for _, s := range v.Chatflow.Steps {
		info.Chatflow.Steps = append(info.Chatflow.Steps, BotStep{Type: s.Type, Text: s.Text, Field: s.Field})
	}
	return info
}

// heading is R-C1's heading: the company; a fixed user; or the visitor's
// contact owner, falling back to the fixed user, then the company.
func heading(v *app.ChatView, cfg *Config) string {
	company := cfg.CompanyName
	if company == "" {
		company = v.Account.Name
	}
	switch cfg.Heading.Mode {
	case HeadingOwner:
		if v.Contact != nil && v.Names[v.Contact.OwnerID] != "" {
			return v.Names[v.Contact.OwnerID]
		}
		fallthrough
	case HeadingUser:
		if n := v.Names[cfg.Heading.UserID]; n != "" {
			return n
		}
	}
	return company
}

func visitorConversation(c *sb.Conversation, names map[string]string) *VisitorConversation {
	return &VisitorConversation{ID: c.ID, Status: c.Status, AssigneeName: names[c.AssigneeID], Waiting: c.Waiting}
}

func visitorMessages(ms []*sb.Message, names map[string]string, company string) []VisitorMessage {
	out := make([]VisitorMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, visitorMessage(m, names, company))
	}
	return out
}

func visitorMessage(m *sb.Message, names map[string]string, company string) VisitorMessage {
	vm := VisitorMessage{ID: m.ID, ClientID: clientIDOf(m), Direction: m.Direction, Body: m.Body, CreatedAt: m.CreatedAt}
	if m.Direction == sb.DirectionOut {
		vm.AuthorName = names[m.AuthorUserID]
		if vm.AuthorName == "" {
			vm.AuthorName = company
		}
	}
	return vm
}

// postMessage is POST /widget/v1/{channel_id}/messages: the HTTP fallback
// of the WebSocket's message frame.
func (w *Widget) postMessage(rw http.ResponseWriter, r *http.Request) {
	ch, _, ok := w.entry(rw, r)
	if !ok {
		return
	}
	var in PostMessage
	if err := decodeJSON(rw, r, &in); err != nil {
		w.fail(rw, r, err)
		return
	}
	res, err := w.deliver(r.Context(), ch, in, clientIP(r))
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	writeJSON(rw, http.StatusOK, res)
}

// deliver stores a visitor's message through the one inbound use case
// (svc.Deliver), which creates or completes the contact (R-C2: the token,
// and an email typed in, identify the visitor), routes a new conversation
// (R-A1 … R-A10) and de-duplicates a re-sent client id.
func (w *Widget) deliver(ctx context.Context, ch *sb.Channel, in PostMessage, ip string) (*PostResult, error) {
	const op = "widget.deliver"
	if err := checkToken(op, in.VisitorToken); err != nil {
		return nil, err
	}
	if in.ClientID != "" && !clientIDRE.MatchString(in.ClientID) {
		return nil, sb.Invalidf(op, "client_id", "client_id must be 1 to 64 letters, digits, - or _")
	}
	if !w.limits.allowVisitor(in.VisitorToken, ip) {
		return nil, errRateLimited
	}
	ext := ""
	if in.ClientID != "" {
		ext = externalID(in.VisitorToken, in.ClientID)
	}
	res, err := w.app.Deliver(ctx, ch.AccountID, ch.ID, app.InboundInput{
		Contact:    app.InboundContact{Email: in.Email, Name: in.Name, Phone: in.Phone, VisitorToken: in.VisitorToken},
		Body:       in.Body,
		ExternalID: ext,
	})
	if err != nil {
		return nil, err
	}
	out := &PostResult{Message: visitorMessage(res.Message, nil, ""), Duplicate: res.Duplicate,
		started: !res.Duplicate && res.Conversation != nil && res.Conversation.CreatedAt.Equal(res.Message.CreatedAt)}
	out.Message.ClientID = in.ClientID
	if c := res.Conversation; c != nil && w.ownsConversation(ctx, ch, in, c) {
		out.Conversation = visitorConversation(c, w.names(ctx, ch.AccountID, c.AssigneeID))
	}
	return out, nil
}

// ownsConversation reports whether c belongs to the visitor's token. The
// core files a message under the contact of an email (or phone) typed in
// when there is one; a visitor who typed someone else's must not be shown
// that contact's conversation.
func (w *Widget) ownsConversation(ctx context.Context, ch *sb.Channel, in PostMessage, c *sb.Conversation) bool {
	if in.Email == "" && in.Phone == "" {
		return true
	}
	var owns bool
	_ = w.app.Store().View(ctx, func(tx sb.Tx) error {
		ct, err := tx.ContactByVisitorToken(ctx, ch.AccountID, in.VisitorToken)
		owns = err == nil && ct.ID == c.ContactID
		return nil
	})
	return owns
}

// names returns the name of one user (an assignee, an author) as a map,
// from the cache when it is younger than a minute.
func (w *Widget) names(ctx context.Context, accountID, userID string) map[string]string {
	if userID == "" {
		return nil
	}
	key := accountID + "/" + userID
	now := time.Now()
	w.users.mu.Lock()
	c, ok := w.users.m[key]
	w.users.mu.Unlock()
	if ok && now.Sub(c.at) < time.Minute {
		return map[string]string{userID: c.name}
	}
	m := map[string]string{}
	_ = w.app.View(ctx, func(tx sb.Tx) error {
		if u, err := tx.User(ctx, accountID, userID); err == nil {
			m[u.ID] = u.Name
		}
		return nil
	})
	if n, ok := m[userID]; ok {
		w.users.mu.Lock()
		if w.users.m == nil || len(w.users.m) > 100_000 {
			w.users.m = map[string]cachedName{}
		}
		w.users.m[key] = cachedName{name: n, at: now}
		w.users.mu.Unlock()
	}
	return m
}

// decodeJSON reads a JSON body of at most maxPostBytes.
func decodeJSON(rw http.ResponseWriter, r *http.Request, dst any) error {
	const op = "widget.decode"
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/plain") {
		return sb.E(op, sb.Invalid, "unsupported_media_type", "send the message as application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, maxPostBytes))
	if err := dec.Decode(dst); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return sb.E(op, sb.TooLarge, "body_too_large", "the request is larger than %d KiB", maxPostBytes>>10)
		}
		return sb.E(op, sb.Invalid, "invalid_json", "the body must be a JSON object: {visitor_token, body, client_id, name, email}")
	}
	return nil
}

// location caches time zones by name; unknown names are UTC.
var zones sync.Map

func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	zones.Store(name, l)
	return l
}

//go:embed static/widget.js
var scriptJS string

//go:embed static/widget.css
var scriptCSS string

// script is GET /widget.js: the widget with its stylesheet, one file.
func (w *Widget) script(rw http.ResponseWriter, r *http.Request) {
	body, etag := bundle()
	h := rw.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", etag)
	h.Set("Access-Control-Allow-Origin", "*")
	if r.Header.Get("If-None-Match") == etag {
		rw.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = rw.Write(body)
}

var bundle = sync.OnceValues(func() ([]byte, string) {
	css, _ := json.Marshal(scriptCSS)
	b := []byte(strings.Replace(scriptJS, "/*CSS*/\"\"", string(css), 1))
	sum := sha256.Sum256(b)
	return b, strconv.Quote(hex.EncodeToString(sum[:8]))
})

// preview is GET /widget/v1/{channel_id}/preview: a blank page of the
// server's own origin with the widget embedded, to try a channel before
// pasting the tag into a site.
func (w *Widget) preview(rw http.ResponseWriter, r *http.Request) {
	ch, _, err := w.channel(r.Context(), r.PathValue("channel_id"))
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_ = previewPage.Execute(rw, ch)
}

var previewPage = template.Must(template.New("preview").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Name}}: widget preview</title></head>
<body style="font-family:sans-serif;margin:2rem"><h1>{{.Name}}</h1><p>This page embeds the chat widget of this channel, as a site would:</p>
<pre>&lt;script src="https://switchboard.example.com/widget.js" data-channel="{{.ID}}" defer&gt;&lt;/script&gt;</pre>
<script src="/widget.js" data-channel="{{.ID}}" defer></script>
</body></html>`))
