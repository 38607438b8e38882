package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// settingsData fills the admins' settings pages. The forms are sent by
// the page's script to the JSON API, which checks and explains.
type settingsData struct {
	base
	Users    []*app.UserView
	Seated   []*app.UserView // users with a paid seat: the only ones routing may name (R-A2)
	Teams    []*sb.Team
	Inboxes  []*sb.Inbox
	Channels []*app.ChannelView
	Channel  *channelForm
	Kinds    []kindOption
	Days     []dayOption
}

type kindOption struct {
	Kind    sb.ChannelKind
	Label   string
	Example string
}

// kinds are the channel kinds with an example of their config.
var kinds = []kindOption{
	{sb.KindEmail, "Email", `{"address": "support@example.com"}`},
	{sb.KindChat, "Live chat", `{"color": "#2255aa", "welcome_message": "Hi! How can we help?"}`},
	{sb.KindMessenger, "Facebook Messenger", `{"page_id": "1234567890"}`},
	{sb.KindWhatsApp, "WhatsApp", `{"phone_number_id": "1234567890"}`},
	{sb.KindForm, "Web form", `{"fields": ["name", "email", "message"]}`},
	{sb.KindCalling, "Calling", `{"number": "+15550100"}`},
}

type dayOption struct {
	Day   time.Weekday
	Label string
}

var days = []dayOption{{1, "Mon"}, {2, "Tue"}, {3, "Wed"}, {4, "Thu"}, {5, "Fri"}, {6, "Sat"}, {0, "Sun"}}

// channelForm is a channel with its config pretty-printed.
type channelForm struct {
	*app.ChannelView
	ConfigText string
	InboxName  string
}

func (h *Handler) settings(r *http.Request, a app.Actor, title, section string) (*settingsData, error) {
	ctx := r.Context()
	b, err := h.base(r, a, title, section)
	if err != nil {
		return nil, err
	}
	if !a.IsAdmin() {
		return nil, sb.E("web.settings", sb.Forbidden, "admin_required", "only admins can change settings")
	}
	d := &settingsData{base: b, Kinds: kinds, Days: days}
	if d.Users, err = h.app.ListUsers(ctx, a); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Users, func(x, y *app.UserView) int { return strings.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)) })
	for _, u := range d.Users {
		if u.PaidSeat {
			d.Seated = append(d.Seated, u)
		}
	}
	if d.Teams, err = h.app.ListTeams(ctx, a); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Teams, func(x, y *sb.Team) int { return strings.Compare(x.Name, y.Name) })
	if d.Inboxes, err = h.app.ListInboxes(ctx, a); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Inboxes, func(x, y *sb.Inbox) int { return strings.Compare(x.Name, y.Name) })
	if d.Channels, err = h.app.ListChannels(ctx, a, ""); err != nil {
		return nil, err
	}
	slices.SortFunc(d.Channels, func(x, y *app.ChannelView) int { return strings.Compare(x.Name, y.Name) })
	return d, nil
}

func (h *Handler) settingsUsers(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.settings(r, a, "Users", "users")
	if err != nil {
		return err
	}
	return h.render(w, "users", d)
}

func (h *Handler) settingsTeams(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.settings(r, a, "Teams", "teams")
	if err != nil {
		return err
	}
	return h.render(w, "teams", d)
}

func (h *Handler) settingsInboxes(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.settings(r, a, "Inboxes", "inboxes")
	if err != nil {
		return err
	}
	return h.render(w, "inboxes", d)
}

func (h *Handler) settingsChannels(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.settings(r, a, "Channels", "channels")
	if err != nil {
		return err
	}
	return h.render(w, "channels", d)
}

// settingsChannel is one channel's settings: name, config, routing rule
// and tickets.
func (h *Handler) settingsChannel(w http.ResponseWriter, r *http.Request, a app.Actor) error {
	d, err := h.settings(r, a, "Channel", "channels")
	if err != nil {
		return err
	}
	c, err := h.app.GetChannel(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := &channelForm{ChannelView: c, ConfigText: string(c.Config)}
	var pretty any
	if json.Unmarshal(c.Config, &pretty) == nil {
		if b, err := json.MarshalIndent(pretty, "", "  "); err == nil {
			f.ConfigText = string(b)
		}
	}
	for _, in := range d.Inboxes {
		if in.ID == c.InboxID {
			f.InboxName = in.Name
		}
	}
	d.Channel, d.Title = f, "Channel "+c.Name
	return h.render(w, "channel", d)
}
