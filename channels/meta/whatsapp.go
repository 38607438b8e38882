package meta

import (
	"context"
	"encoding/json"
	"net/http"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

// whatsappWebhook takes a WhatsApp Cloud API webhook: the same signature
// rules as Messenger's, then each message or status of a business number
// connected to a channel.
func (m *Meta) whatsappWebhook(w http.ResponseWriter, r *http.Request) {
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
	events, perr := ParseWhatsApp(body)
	channels := map[string]*sb.Channel{}
	candidates := map[string]string{}
	for _, ev := range events {
		ch, err := m.channelFor(ctx, channels, phoneKey(ev.PhoneNumberID))
		if err != nil {
			hook.WriteError(w, err)
			return
		}
		if ch != nil && ch.Kind == sb.KindWhatsApp {
			if cfg, err := parseWhatsApp(ch.Config); err == nil && cfg.AppSecret != "" {
				candidates[ch.ID] = cfg.AppSecret
			}
		}
	}
	global, verifiedChannels, err := m.verified(r, body, candidates)
	if err != nil {
		hook.WriteError(w, err)
		return
	}
	if perr != nil {
		m.log.Warn("WhatsApp webhook with a bad payload refused", "remote", r.RemoteAddr, "err", perr)
		hook.WriteError(w, perr)
		return
	}
	stored, failed := 0, false
	for i := range events {
		ev := &events[i]
		ch := channels[phoneKey(ev.PhoneNumberID)]
		if ch == nil || ch.Kind != sb.KindWhatsApp {
			m.log.Info("WhatsApp event for a number no channel is connected to; skipped", "phone_number_id", ev.PhoneNumberID)
			continue
		}
		if !global && !verifiedChannels[ch.ID] {
			m.log.Warn("WhatsApp event not signed with its number's app secret; skipped", "phone_number_id", ev.PhoneNumberID, "channel_id", ch.ID)
			continue
		}
		if err := m.whatsappEvent(ctx, ch, ev); err != nil {
			m.log.Error("storing a WhatsApp event failed", "channel_id", ch.ID, "kind", ev.Kind, "id", ev.ID, "err", err)
			if !sb.IsKind(err, sb.Invalid) && !sb.IsKind(err, sb.TooLarge) {
				failed = true
			}
			continue
		}
		stored++
	}
	if failed {
		hook.WriteError(w, sb.E("meta.WhatsApp", sb.Unavailable, "retry", "some events could not be stored; send them again"))
		return
	}
	hook.WriteJSON(w, http.StatusOK, map[string]int{"events": len(events), "processed": stored})
}

func (m *Meta) whatsappEvent(ctx context.Context, ch *sb.Channel, ev *WhatsAppEvent) error {
	if ev.Kind == WAStatus {
		return m.whatsappStatus(ctx, ch, ev)
	}
	wa := map[string]any{"id": ev.ID, "wa_id": ev.WaID, "type": ev.Type, "sent_at": ev.Time}
	if ev.Media != nil {
		wa["media"] = ev.Media
	}
	meta, err := json.Marshal(map[string]any{"whatsapp": wa})
	if err != nil {
		return err
	}
	_, err = m.app.Deliver(ctx, ch.AccountID, ch.ID, app.InboundInput{
		Contact: app.InboundContact{Phone: hook.Phone(ev.WaID), Name: ev.Name}, Body: ev.Body(), ExternalID: ev.ID, Meta: meta,
	})
	return err
}

// whatsappStatus applies a sent/delivered/read/failed status to our
// message with that wamid.
func (m *Meta) whatsappStatus(ctx context.Context, ch *sb.Channel, ev *WhatsAppEvent) error {
	var msg *sb.Message
	err := m.app.View(ctx, func(tx sb.Tx) error {
		var err error
		msg, err = tx.MessageByExternalID(ctx, ch.AccountID, ch.ID, ev.ID)
		return err
	})
	if sb.IsKind(err, sb.NotFound) || (err == nil && msg.Direction != sb.DirectionOut) {
		return nil
	}
	if err != nil {
		return err
	}
	switch ev.Status {
	case DetailDelivered, DetailRead:
		return m.advance(ctx, ch.AccountID, []*sb.Message{msg}, ev.Status)
	case sb.DeliveryFailed:
		if msg.Delivery == sb.DeliveryFailed || msg.DeliveryDetail == DetailRead {
			return nil
		}
		detail := ev.Error
		if detail == "" {
			detail = "WhatsApp could not deliver the message"
		}
		return m.app.MarkDeliveryFailed(ctx, ch.AccountID, msg.ID, detail)
	}
	return nil // "sent": already recorded when the Graph API answered
}
