package meta

import (
	"context"
	"crypto/subtle"
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

// platform describes one Meta webhook format for serveWebhook.
type platform[E any] struct {
	name   string // for logs and messages: "Messenger", "WhatsApp"
	kind   sb.ChannelKind
	parse  func(body []byte) ([]E, error)
	key    func(ev *E) string // the channel key the event belongs to
	handle func(ctx context.Context, ch *sb.Channel, ev *E) error
}

// secrets returns a channel's own app secret and verify token.
func secrets(ch *sb.Channel) (appSecret, verifyToken string) {
	switch ch.Kind {
	case sb.KindMessenger:
		if c, err := parseMessenger(ch.Config); err == nil {
			return c.AppSecret, c.VerifyToken
		}
	case sb.KindWhatsApp:
		if c, err := parseWhatsApp(ch.Config); err == nil {
			return c.AppSecret, c.VerifyToken
		}
	}
	return "", ""
}

// serveWebhook takes a webhook: signature first (401 unsigned, 403 wrong;
// nothing stored either way), then each event of a connected channel.
// only, for a channel's own webhook URL, limits the events to that
// channel. Events of unknown pages or numbers are skipped. It answers 503
// if an event could not be stored, so that Meta sends the batch again; the
// events already stored are then de-duplicated by their ids.
func serveWebhook[E any](m *Meta, p platform[E], w http.ResponseWriter, r *http.Request, only *sb.Channel) {
	ctx := r.Context()
	body, err := hook.ReadBody(w, r)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	if r.Header.Get("X-Hub-Signature-256") == "" {
		_, _, err := m.verified(r, body, nil)
		hook.WriteError(w, err)
		return
	}
	events, perr := p.parse(body)
	channels := map[string]*sb.Channel{}
	candidates := map[string]string{}
	for i := range events {
		ch, err := m.channelFor(ctx, channels, p.key(&events[i]))
		if err != nil {
			hook.WriteError(w, err)
			return
		}
		if ch != nil && ch.Kind == p.kind {
			if secret, _ := secrets(ch); secret != "" {
				candidates[ch.ID] = secret
			}
		}
	}
	if only != nil {
		if secret, _ := secrets(only); secret != "" {
			candidates[only.ID] = secret
		}
	}
	global, verifiedChannels, err := m.verified(r, body, candidates)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	if perr != nil {
		m.log.Warn(p.name+" webhook with a bad payload refused", "remote", r.RemoteAddr, "err", perr)
		hook.WriteError(w, perr)
		return
	}
	stored, failed := 0, false
	for i := range events {
		ev := &events[i]
		ch := channels[p.key(ev)]
		switch {
		case ch == nil || ch.Kind != p.kind || (only != nil && ch.ID != only.ID):
			m.log.Info(p.name+" event for a page or number not connected here; skipped", "key", p.key(ev))
			continue
		case !global && !verifiedChannels[ch.ID]:
			m.log.Warn(p.name+" event not signed with its channel's app secret; skipped", "key", p.key(ev), "channel_id", ch.ID)
			continue
		}
		if err := p.handle(ctx, ch, ev); err != nil {
			m.log.Error("storing a "+p.name+" event failed", "channel_id", ch.ID, "err", err)
			if !sb.IsKind(err, sb.Invalid) && !sb.IsKind(err, sb.TooLarge) {
				failed = true
			}
			continue
		}
		stored++
	}
	if failed {
		hook.WriteError(w, sb.E("meta.Webhook", sb.Unavailable, "retry", "some events could not be stored; send them again"))
		return
	}
	hook.WriteJSON(w, http.StatusOK, map[string]int{"events": len(events), "processed": stored})
}

func (m *Meta) messenger() platform[MessengerEvent] {
	return platform[MessengerEvent]{name: "Messenger", kind: sb.KindMessenger, parse: ParseMessenger,
		key: func(ev *MessengerEvent) string { return pageKey(ev.PageID) }, handle: m.messengerEvent}
}

func (m *Meta) whatsapp() platform[WhatsAppEvent] {
	return platform[WhatsAppEvent]{name: "WhatsApp", kind: sb.KindWhatsApp, parse: ParseWhatsApp,
		key: func(ev *WhatsAppEvent) string { return phoneKey(ev.PhoneNumberID) }, handle: m.whatsappEvent}
}

func (m *Meta) messengerWebhook(w http.ResponseWriter, r *http.Request) {
	serveWebhook(m, m.messenger(), w, r, nil)
}

func (m *Meta) whatsappWebhook(w http.ResponseWriter, r *http.Request) {
	serveWebhook(m, m.whatsapp(), w, r, nil)
}

// channelWebhook is a channel's own webhook URL
// (/webhooks/{messenger,whatsapp}/{channel_id}), for pages and numbers
// of a Meta app other than the installation's: its verify token and app
// secret come from the channel's config.
func (m *Meta) channelWebhook(kind sb.ChannelKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ch, err := m.app.ChannelForEntry(r.Context(), r.PathValue("channel_id"))
		if err == nil && ch.Kind != kind {
			err = sb.E("meta.ChannelWebhook", sb.NotFound, "not_found", "no such %s channel", kind)
		}
		if err != nil {
			hook.WriteError(w, err)
			return
		}
		switch {
		case r.Method == http.MethodGet:
			_, token := secrets(ch)
			m.answerHandshake(w, r, token)
		case kind == sb.KindMessenger:
			serveWebhook(m, m.messenger(), w, r, ch)
		default:
			serveWebhook(m, m.whatsapp(), w, r, ch)
		}
	}
}

// handshake answers Meta's subscription check on the installation's URLs.
func (m *Meta) handshake(w http.ResponseWriter, r *http.Request) { m.answerHandshake(w, r, "") }

// answerHandshake: hub.mode=subscribe with the installation's verify
// token, or the channel's, gets hub.challenge back; anything else 403.
func (m *Meta) answerHandshake(w http.ResponseWriter, r *http.Request, channelToken string) {
	q := r.URL.Query()
	token := []byte(q.Get("hub.verify_token"))
	ok := false
	for _, want := range []string{m.verifyToken, channelToken} {
		if want != "" && subtle.ConstantTimeCompare(token, []byte(want)) == 1 {
			ok = true
		}
	}
	if q.Get("hub.mode") != "subscribe" || !ok {
		m.log.Warn("webhook subscription handshake refused", "path", r.URL.Path, "remote", r.RemoteAddr,
			"mode", q.Get("hub.mode"), "verify_token_configured", m.verifyToken != "" || channelToken != "")
		hook.WriteError(w, sb.E("meta.Handshake", sb.Forbidden, "verify_token_mismatch", "hub.mode must be subscribe and hub.verify_token must be the configured verify token"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(q.Get("hub.challenge")))
}
