package meta

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// Explicit consent (R-F2). Until a person accepts, their messages do not
// become a conversation: they are held on the consent record (at most
// maxHeld) and answered with a prompt carrying Accept and Decline quick
// replies. Accepting delivers the held messages, in order, as if they had
// just arrived; declining drops them. A person who declined and writes
// again is asked again.
const maxHeld = 20

// consentGate decides what of ev may be delivered now: nothing (held, or
// the answer to the prompt), or the held messages and ev once accepted.
func (m *Meta) consentGate(ctx context.Context, ch *sb.Channel, cfg *MessengerConfig, ev *MessengerEvent) ([]MessengerEvent, error) {
	var deliver []MessengerEvent
	err := m.app.Update(ctx, ch.AccountID, func(tx sb.Tx) error {
		deliver = nil
		c, err := tx.Consent(ctx, ch.AccountID, ch.ID, ev.PSID)
		if sb.IsKind(err, sb.NotFound) {
			c, err = &sb.Consent{AccountID: ch.AccountID, ChannelID: ch.ID, Subject: ev.PSID}, nil
		}
		if err != nil {
			return err
		}
		var held []MessengerEvent
		if len(c.Held) > 0 {
			if err := json.Unmarshal(c.Held, &held); err != nil {
				return err
			}
		}
		c.UpdatedAt = m.app.Now()
		switch {
		case c.Status == sb.ConsentAccepted:
			// Held messages left by a failed delivery go first.
			deliver = append(held, *ev)
			return nil
		case ev.Payload == ConsentAccept:
			c.Status = sb.ConsentAccepted
			deliver = held // released (cleared) once delivered
			return tx.PutConsent(ctx, c)
		case ev.Payload == ConsentDecline:
			c.Status, c.Held = sb.ConsentDeclined, json.RawMessage(`[]`)
			return tx.PutConsent(ctx, c)
		}
		if !slices.ContainsFunc(held, func(h MessengerEvent) bool { return h.MID == ev.MID }) && len(held) < maxHeld {
			held = append(held, *ev)
		}
		if c.Held, err = json.Marshal(held); err != nil {
			return err
		}
		c.Status = sb.ConsentPending
		if err := tx.PutConsent(ctx, c); err != nil {
			return err
		}
		payload, err := json.Marshal(consentJob{ChannelID: ch.ID, PSID: ev.PSID})
		if err != nil {
			return err
		}
		// Keyed: a burst of messages gets one prompt.
		return m.app.Enqueue(ctx, tx, &sb.Job{AccountID: ch.AccountID, Kind: JobMessengerConsent, Key: ch.ID + ":" + ev.PSID,
			Payload: payload, RunAt: m.app.Now()})
	})
	return deliver, err
}

// releaseHeld clears the held messages once they are delivered.
func (m *Meta) releaseHeld(ctx context.Context, ch *sb.Channel, psid string) error {
	return m.app.Update(ctx, ch.AccountID, func(tx sb.Tx) error {
		c, err := tx.Consent(ctx, ch.AccountID, ch.ID, psid)
		if err != nil {
			return err
		}
		c.Held, c.UpdatedAt = json.RawMessage(`[]`), m.app.Now()
		return tx.PutConsent(ctx, c)
	})
}

type consentJob struct {
	ChannelID string `json:"channel_id"`
	PSID      string `json:"psid"`
}

// sendConsentPrompt sends the consent question with its quick replies.
func (m *Meta) sendConsentPrompt(ctx context.Context, j *sb.Job) error {
	var p consentJob
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	ch, cfg, err := m.messengerChannel(ctx, j.AccountID, p.ChannelID)
	if err != nil {
		return err
	}
	text := cfg.ConsentText
	if text == "" {
		text = defaultConsentText
	}
	req := &SendRequest{MessagingType: TypeResponse, Message: SendMessage{Text: text, QuickReplies: []QuickReply{
		{ContentType: "text", Title: "Accept", Payload: ConsentAccept},
		{ContentType: "text", Title: "Decline", Payload: ConsentDecline},
	}}}
	req.Recipient.ID = p.PSID
	if _, err := m.graph.SendMessenger(ctx, cfg.PageAccessToken, req); err != nil {
		if Permanent(err) {
			m.log.Warn("the Messenger consent prompt could not be sent", "channel_id", ch.ID, "err", err)
			return app.Permanent(err)
		}
		return err
	}
	return nil
}

// messengerChannel loads a Messenger channel and its config for a job.
func (m *Meta) messengerChannel(ctx context.Context, accountID, channelID string) (*sb.Channel, *MessengerConfig, error) {
	var ch *sb.Channel
	err := m.app.View(ctx, func(tx sb.Tx) error {
		var err error
		ch, err = tx.Channel(ctx, accountID, channelID)
		return err
	})
	if sb.IsKind(err, sb.NotFound) {
		return nil, nil, app.Permanent(errors.New("the channel was deleted"))
	}
	if err != nil {
		return nil, nil, err
	}
	cfg, err := parseMessenger(ch.Config)
	if err != nil {
		return nil, nil, app.Permanent(err)
	}
	if cfg.PageAccessToken == "" {
		return nil, nil, app.Permanent(errors.New("the Messenger channel has no page_access_token"))
	}
	return ch, cfg, nil
}

// messengerSaved queues pushing the greeting to the page whenever a
// Messenger channel with a greeting is saved (R-F2).
func (m *Meta) messengerSaved(ctx context.Context, tx sb.Tx, ch *sb.Channel) error {
	cfg, err := parseMessenger(ch.Config)
	if err != nil || cfg.Greeting == "" || cfg.PageAccessToken == "" {
		return err
	}
	payload, err := json.Marshal(map[string]string{"channel_id": ch.ID})
	if err != nil {
		return err
	}
	return m.app.Enqueue(ctx, tx, &sb.Job{AccountID: ch.AccountID, Kind: JobMessengerProfile, Key: ch.ID, Payload: payload, RunAt: m.app.Now()})
}

// pushProfile sets the page's greeting through the Messenger Profile API.
func (m *Meta) pushProfile(ctx context.Context, j *sb.Job) error {
	var p struct {
		ChannelID string `json:"channel_id"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return app.Permanent(err)
	}
	ch, cfg, err := m.messengerChannel(ctx, j.AccountID, p.ChannelID)
	if err != nil {
		return err
	}
	if cfg.Greeting == "" {
		return nil
	}
	if err := m.graph.SetGreeting(ctx, cfg.PageAccessToken, cfg.Greeting); err != nil {
		if Permanent(err) {
			m.log.Warn("the Messenger greeting could not be set", "channel_id", ch.ID, "err", err)
			return app.Permanent(err)
		}
		return err
	}
	return nil
}

// consented reports whether the person accepted (explicit consent).
func (m *Meta) consented(ctx context.Context, ch *sb.Channel, psid string) bool {
	ok := false
	_ = m.app.View(ctx, func(tx sb.Tx) error {
		c, err := tx.Consent(ctx, ch.AccountID, ch.ID, psid)
		ok = err == nil && c.Status == sb.ConsentAccepted
		return nil
	})
	return ok
}
