package sqlstore

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

// The bulk methods below are correct but row-at-a-time: they are being
// replaced by one-statement versions (see store.go's contract).

func (t *tx) ContactsByKeys(ctx context.Context, accountID string, emails, tokens, phones []string) ([]*sb.Contact, error) {
	var out []*sb.Contact
	seen := map[string]bool{}
	add := func(c *sb.Contact, err error) error {
		if sb.IsKind(err, sb.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
		return nil
	}
	for _, e := range emails {
		if e != "" {
			if err := add(t.ContactByEmail(ctx, accountID, e)); err != nil {
				return nil, err
			}
		}
	}
	for _, v := range tokens {
		if v != "" {
			if err := add(t.ContactByVisitorToken(ctx, accountID, v)); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range phones {
		if p != "" {
			if err := add(t.ContactByPhone(ctx, accountID, p)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (t *tx) MessagesByExternalIDs(ctx context.Context, accountID string, keys []sb.ExternalKey) ([]*sb.Message, error) {
	var out []*sb.Message
	for _, k := range keys {
		m, err := t.MessageByExternalID(ctx, accountID, k.ChannelID, k.ExternalID)
		if sb.IsKind(err, sb.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (t *tx) LatestConversations(ctx context.Context, accountID string, keys []sb.ContactChannel) ([]*sb.Conversation, error) {
	var out []*sb.Conversation
	for _, k := range keys {
		c, err := t.LatestConversation(ctx, accountID, k.ContactID, k.ChannelID)
		if sb.IsKind(err, sb.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (t *tx) ConversationsByIDs(ctx context.Context, accountID string, ids []string) ([]*sb.Conversation, error) {
	var out []*sb.Conversation
	for _, id := range ids {
		c, err := t.Conversation(ctx, accountID, id)
		if sb.IsKind(err, sb.NotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (t *tx) CreateContacts(ctx context.Context, cs []*sb.Contact) error {
	for _, c := range cs {
		if err := t.CreateContact(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) CreateConversations(ctx context.Context, cs []*sb.Conversation) error {
	for _, c := range cs {
		if err := t.CreateConversation(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) CreateMessages(ctx context.Context, ms []*sb.Message) error {
	for _, m := range ms {
		if err := t.CreateMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) CreateDecisions(ctx context.Context, ds []*sb.Decision) error {
	for _, d := range ds {
		if err := t.CreateDecision(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) UpdateConversations(ctx context.Context, cs []*sb.Conversation) error {
	for _, c := range cs {
		if err := t.UpdateConversation(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) AddLoads(ctx context.Context, accountID string, ds []sb.LoadDelta) error {
	for _, d := range ds {
		if err := t.AddLoad(ctx, accountID, d.UserID, d.Delta, d.AssignedAt); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) AppendEvents(ctx context.Context, es []*sb.Event) error {
	for _, e := range es {
		if err := t.AppendEvent(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
