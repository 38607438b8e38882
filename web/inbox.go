package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// pageSize is how many conversations a view shows at once.
const pageSize = 50

// base is what every signed-in page shows: the header with the user's
// avatar menu.
type base struct {
	Title   string
	Me      *app.UserView
	Admin   bool
	Section string
}

func (h *Handler) base(r *http.Request, a app.Actor, title, section string) (base, error) {
	me, err := h.app.GetUser(r.Context(), a, a.UserID)
	if err != nil {
		return base{}, err
	}
	return base{Title: title, Me: me, Admin: a.IsAdmin(), Section: section}, nil
}

// inboxQuery is what the inbox shows: a view, narrowed to an inbox or a
// team, and maybe one open conversation.
type inboxQuery struct {
	View, InboxID, TeamID, ConvID, Cursor string
}

func parseInboxQuery(q url.Values) inboxQuery {
	iq := inboxQuery{View: q.Get("view"), InboxID: q.Get("inbox"), TeamID: q.Get("team"), ConvID: q.Get("c"), Cursor: q.Get("cursor")}
	switch iq.View {
	case app.ViewUnassigned, app.ViewMine, app.ViewOpen, app.ViewClosed:
	default:
		iq.View = app.ViewUnassigned
		if iq.InboxID != "" || iq.TeamID != "" {
			iq.View = app.ViewOpen
		}
	}
	return iq
}

// URL returns the inbox's address for the same view with conversation c.
func (q inboxQuery) URL(c string) string {
	v := url.Values{}
	v.Set("view", q.View)
	if q.InboxID != "" {
		v.Set("inbox", q.InboxID)
	}
	if q.TeamID != "" {
		v.Set("team", q.TeamID)
	}
	if c != "" {
		v.Set("c", c)
	}
	return "/app?" + v.Encode()
}

// viewLink is one entry of the left column.
type viewLink struct {
	Label   string
	URL     string
	Count   int
	Counted bool
	Current bool
	ID      string // for tests and styling
}

// listItem is one row of the conversation list.
type listItem struct {
	C        *sb.Conversation
	Contact  string
	Channel  string
	Assignee string
	Age      string
	URL      string
	Current  bool
}

// inboxData fills the inbox page.
type inboxData struct {
	base
	Q        inboxQuery
	Views    []viewLink
	Teams    []viewLink
	Inboxes  []viewLink
	Heading  string
	Items    []listItem
	NextURL  string
	Conv     *convData
	ConvURL  string
	EventURL string
}

// convData is the open conversation.
type convData struct {
	C         *sb.Conversation
	Contact   *sb.Contact
	Inbox     string
	Channel   string
	Assignee  string
	Team      string
	Messages  []messageView
	Options   *app.AssignOptions
	Mine      bool
	Decisions []decisionView
}

type messageView struct {
	M           *sb.Message
	Author      string
	When        string
	Class       string
	Attachments []attachmentView
}

// attachmentView is a file that came with a message (email), linked to
// its download through the API.
type attachmentView struct {
	Name, Size, URL string
}

// attachmentsOf reads the attachments a channel listed in a message's meta
// ({"attachments": [{"filename", "size", "sha256"}]}); inline images of an
// HTML mail are left out, as a mail client does.
func attachmentsOf(m *sb.Message) []attachmentView {
	if len(m.Meta) == 0 {
		return nil
	}
	var meta struct {
		Attachments []struct {
			Filename string `json:"filename"`
			Size     int    `json:"size"`
			SHA256   string `json:"sha256"`
			Inline   bool   `json:"inline"`
		} `json:"attachments"`
	}
	if json.Unmarshal(m.Meta, &meta) != nil {
		return nil
	}
	var out []attachmentView
	for _, a := range meta.Attachments {
		if a.SHA256 == "" || a.Inline {
			continue
		}
		name := a.Filename
		if name == "" {
			name = "attachment"
		}
		out = append(out, attachmentView{Name: name, Size: byteSize(a.Size),
			URL: "/api/v1/conversations/" + url.PathEscape(m.ConversationID) + "/attachments/" + url.PathEscape(a.SHA256)})
	}
	return out
}

// byteSize writes n bytes for people: 812 B, 14 KB, 2.3 MB.
func byteSize(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// names are the account's users, teams, inboxes and channels by id, for
// showing names instead of ids.
type names struct {
	users    map[string]*app.UserView
	teams    []*sb.Team
	inboxes  []*sb.Inbox
	channels map[string]*app.ChannelView
}

func (n *names) user(id string) string {
	if u, ok := n.users[id]; ok {
		return u.Name
	}
	return ""
}

func (n *names) team(id string) string {
	for _, t := range n.teams {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

func (n *names) inbox(id string) string {
	for _, in := range n.inboxes {
		if in.ID == id {
			return in.Name
		}
	}
	return ""
}

func (h *Handler) loadNames(r *http.Request, a app.Actor) (*names, error) {
	ctx := r.Context()
	us, err := h.app.ListUsers(ctx, a)
	if err != nil {
		return nil, err
	}
	n := &names{users: make(map[string]*app.UserView, len(us)), channels: map[string]*app.ChannelView{}}
	for _, u := range us {
		n.users[u.ID] = u
	}
	if n.teams, err = h.app.ListTeams(ctx, a); err != nil {
		return nil, err
	}
	if n.inboxes, err = h.app.ListInboxes(ctx, a); err != nil {
		return nil, err
	}
	chans, err := h.app.ListChannels(ctx, a, "")
	if err != nil {
		return nil, err
	}
	for _, c := range chans {
		n.channels[c.ID] = c
	}
	slices.SortFunc(n.teams, func(x, y *sb.Team) int { return strings.Compare(x.Name, y.Name) })
	slices.SortFunc(n.inboxes, func(x, y *sb.Inbox) int { return strings.Compare(x.Name, y.Name) })
	return n, nil
}

// inbox is GET /app: the views, the list and the open conversation.
func (h *Handler) inbox(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.inboxData(r, a)
	if err != nil {
		return err
	}
	return h.render(w, "inbox", d)
}

// parts is GET /app/parts: the inbox's changing parts as HTML fragments
// in JSON ({"views", "list", "conv_head", "thread", "why", "reply_hint"}), for the
// script to swap in when an event arrives.
func (h *Handler) parts(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.inboxData(r, a)
	if err != nil {
		return err
	}
	out := map[string]string{}
	for _, name := range []string{"views", "list", "conv_head", "thread", "why", "reply_hint"} {
		var b bytes.Buffer
		if err := h.tmpl.ExecuteTemplate(&b, name, d); err != nil {
			return err
		}
		out[name] = b.String()
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}

func (h *Handler) inboxData(r *http.Request, a app.Actor) (*inboxData, error) {
	ctx := r.Context()
	q := parseInboxQuery(r.URL.Query())
	b, err := h.base(r, a, "Inbox", "inbox")
	if err != nil {
		return nil, err
	}
	n, err := h.loadNames(r, a)
	if err != nil {
		return nil, err
	}
	counts, err := h.app.CountViews(ctx, a)
	if err != nil {
		return nil, err
	}
	page, err := h.app.ListConversations(ctx, a, app.ListQuery{View: q.View, InboxID: q.InboxID, TeamID: q.TeamID, Cursor: q.Cursor, Limit: pageSize})
	if err != nil {
		return nil, err
	}
	d := &inboxData{base: b, Q: q}
	d.views(counts, n)
	contactIDs := make([]string, 0, len(page.Items))
	for _, c := range page.Items {
		contactIDs = append(contactIDs, c.ContactID)
	}
	contacts, err := h.app.ContactsByIDs(ctx, a, contactIDs)
	if err != nil {
		return nil, err
	}
	now := h.now()
	for _, c := range page.Items {
		it := listItem{C: c, Contact: contactName(contacts[c.ContactID]), Assignee: n.user(c.AssigneeID), Age: ago(now, c.LastActivityAt), URL: q.URL(c.ID), Current: c.ID == q.ConvID}
		if it.Assignee == "" && c.TeamID != "" {
			it.Assignee = "Team " + n.team(c.TeamID)
		}
		if ch, ok := n.channels[c.ChannelID]; ok {
			it.Channel = ch.Name
		}
		d.Items = append(d.Items, it)
	}
	if page.NextCursor != "" {
		v := r.URL.Query()
		v.Set("cursor", page.NextCursor)
		d.NextURL = "/app?" + v.Encode()
	}
	if q.ConvID != "" {
		if d.Conv, err = h.convData(r, a, q.ConvID, n); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// views builds the left column.
func (d *inboxData) views(c *app.ViewCounts, n *names) {
	q := d.Q
	main := []struct {
		view, label string
		count       int
		counted     bool
	}{
		{app.ViewUnassigned, "Unassigned", c.Unassigned, true},
		{app.ViewMine, "Assigned to me", c.Mine, true},
		{app.ViewOpen, "All open", c.Open, true},
		{app.ViewClosed, "Closed", 0, false},
	}
	for _, m := range main {
		cur := q.View == m.view && q.InboxID == "" && q.TeamID == ""
		d.Views = append(d.Views, viewLink{Label: m.label, URL: "/app?view=" + m.view, Count: m.count, Counted: m.counted, Current: cur, ID: "view-" + m.view})
		if cur {
			d.Heading = m.label
		}
	}
	for _, t := range n.teams {
		cur := q.TeamID == t.ID
		d.Teams = append(d.Teams, viewLink{Label: t.Name, URL: "/app?view=open&team=" + url.QueryEscape(t.ID), Count: c.Teams[t.ID], Counted: true, Current: cur, ID: "team-" + t.ID})
		if cur {
			d.Heading = "Team " + t.Name
		}
	}
	for _, in := range n.inboxes {
		if _, ok := c.Inboxes[in.ID]; !ok {
			continue // admins list every inbox, but see only those they have access to (R-I4)
		}
		cur := q.InboxID == in.ID
		d.Inboxes = append(d.Inboxes, viewLink{Label: in.Name, URL: "/app?view=open&inbox=" + url.QueryEscape(in.ID), Count: c.Inboxes[in.ID], Counted: true, Current: cur, ID: "inbox-" + in.ID})
		if cur {
			d.Heading = "Inbox " + in.Name
		}
	}
	if d.Heading == "" {
		d.Heading = "Conversations"
	}
}

func contactName(c *sb.Contact) string {
	switch {
	case c == nil:
		return "Unknown contact"
	case c.Name != "":
		return c.Name
	case c.Email != "":
		return c.Email
	case c.Phone != "":
		return c.Phone
	}
	return "Visitor"
}

// convData loads the open conversation, its thread, its Assignee menu and
// its routing record.
func (h *Handler) convData(r *http.Request, a app.Actor, id string, n *names) (*convData, error) {
	ctx := r.Context()
	c, err := h.app.GetConversation(ctx, a, id)
	if err != nil {
		return nil, err
	}
	d := &convData{C: c, Inbox: n.inbox(c.InboxID), Assignee: n.user(c.AssigneeID), Team: n.team(c.TeamID), Mine: c.AssigneeID == a.UserID}
	if ch, ok := n.channels[c.ChannelID]; ok {
		d.Channel = ch.Name
	}
	if d.Contact, err = h.app.GetContact(ctx, a, c.ContactID); err != nil && !sb.IsKind(err, sb.NotFound) {
		return nil, err
	}
	ms, err := h.app.Messages(ctx, a, id)
	if err != nil {
		return nil, err
	}
	now := h.now()
	for _, m := range ms {
		v := messageView{M: m, When: ago(now, m.CreatedAt), Class: m.Direction, Attachments: attachmentsOf(m)}
		switch m.Direction {
		case sb.DirectionIn:
			v.Author = contactName(d.Contact)
		case sb.DirectionNote:
			v.Author = n.user(m.AuthorUserID) + " (internal note)"
		default:
			v.Author = n.user(m.AuthorUserID)
		}
		d.Messages = append(d.Messages, v)
	}
	if d.Options, err = h.app.AssignOptions(ctx, a, id); err != nil {
		return nil, err
	}
	ds, err := h.app.RoutingRecord(ctx, a, id)
	if err != nil {
		return nil, err
	}
	for i := len(ds) - 1; i >= 0; i-- { // newest first
		d.Decisions = append(d.Decisions, explain(ds[i], n, now))
	}
	return d, nil
}

// render writes template name with data as a page.
func (h *Handler) render(w http.ResponseWriter, name string, data any) error {
	var b bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, err := w.Write(b.Bytes())
	return err
}

// PartsURL is where the script fetches this page's changing parts (the
// same view, page and conversation).
func (q inboxQuery) PartsURL() string {
	u := "/app/parts" + strings.TrimPrefix(q.URL(q.ConvID), "/app")
	if q.Cursor != "" {
		u += "&cursor=" + url.QueryEscape(q.Cursor)
	}
	return u
}
