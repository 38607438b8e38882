package httpapi

import (
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// listInboxChannels is GET /api/v1/inboxes/{id}/channels.
func (s *server) listInboxChannels(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.listChannelsOf(w, r, a, r.PathValue("id"))
}

// listChannels is GET /api/v1/channels: every channel the caller may see.
func (s *server) listChannels(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.listChannelsOf(w, r, a, "")
}

func (s *server) listChannelsOf(w http.ResponseWriter, r *http.Request, a app.Actor, inboxID string) {
	q, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := s.app.ListChannels(r.Context(), a, inboxID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := pageOf(cs, func(c *app.ChannelView) string { return c.ID }, q)
	s.reply(w, r, http.StatusOK, p, err)
}

// createInboxChannel is POST /api/v1/inboxes/{id}/channels: connect a
// channel to an existing inbox (R-I1, R-I3; routing checked for R-A2, R-I4).
func (s *server) createInboxChannel(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.ChannelInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.NewInbox != nil {
		s.fail(w, r, sb.Invalidf("httpapi.createInboxChannel", "new_inbox",
			"new_inbox creates an inbox with the channel: use POST /api/v1/channels for that"))
		return
	}
	c, err := s.app.CreateChannel(r.Context(), a, r.PathValue("id"), in)
	s.reply(w, r, http.StatusCreated, c, err)
}

// createChannel is POST /api/v1/channels: a channel with a new inbox
// created with it (new_inbox, R-I1).
func (s *server) createChannel(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var in app.ChannelInput
	if err := s.decode(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.CreateChannel(r.Context(), a, "", in)
	s.reply(w, r, http.StatusCreated, c, err)
}

// getChannel is GET /api/v1/channels/{id}, with routing_warnings (R-A2).
func (s *server) getChannel(w http.ResponseWriter, r *http.Request, a app.Actor) {
	c, err := s.app.GetChannel(r.Context(), a, r.PathValue("id"))
	s.reply(w, r, http.StatusOK, c, err)
}

// updateChannel is PATCH /api/v1/channels/{id} (R-I3, R-A2).
func (s *server) updateChannel(w http.ResponseWriter, r *http.Request, a app.Actor) {
	var p app.ChannelPatch
	if err := s.decode(w, r, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.app.UpdateChannel(r.Context(), a, r.PathValue("id"), p)
	s.reply(w, r, http.StatusOK, c, err)
}

// deleteChannel is DELETE /api/v1/channels/{id} (R-I3); its conversations
// stay.
func (s *server) deleteChannel(w http.ResponseWriter, r *http.Request, a app.Actor) {
	s.noContent(w, r, s.app.DeleteChannel(r.Context(), a, r.PathValue("id")))
}
