package meta

import (
	"context"
	"encoding/json"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/channels/internal/hook"
)

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
