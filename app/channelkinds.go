package app

import (
	"context"
	"encoding/json"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// ChannelKindHooks is what a channel package tells the app about its
// kind's configuration (see RegisterChannelKind).
type ChannelKindHooks struct {
	// Check validates and normalises c.Config when a channel of the kind is
	// created or changed, and returns the platform keys the channel claims
	// in the whole installation ("messenger:page:<page id>"): a key is held
	// by at most one channel, so by at most one account (R-F1).
	Check func(c *sb.Channel) (keys []string, err error)
	// Saved, if set, runs in the saving transaction after the channel and
	// its keys are written (e.g. to enqueue a job that pushes the greeting
	// to the platform).
	Saved func(ctx context.Context, tx sb.Tx, c *sb.Channel) error
}

// RegisterChannelKind installs the hooks of a channel kind. Call it before
// Start.
func (s *Service) RegisterChannelKind(kind sb.ChannelKind, h ChannelKindHooks) {
	if s.kinds == nil {
		s.kinds = map[sb.ChannelKind]ChannelKindHooks{}
	}
	s.kinds[kind] = h
}

// ChannelByKey finds the channel that claimed a platform key, in any
// account, for webhooks that identify their channel by a platform id.
// NotFound if none did.
func (s *Service) ChannelByKey(ctx context.Context, key string) (*sb.Channel, error) {
	var c *sb.Channel
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		c, err = tx.ChannelByKey(ctx, key)
		return err
	})
	return c, sb.Wrap("app.ChannelByKey", err)
}

// checkKind runs the kind's Check and returns the keys to claim.
func (s *Service) checkKind(c *sb.Channel) ([]string, error) {
	h, ok := s.kinds[c.Kind]
	if !ok || h.Check == nil {
		return nil, nil
	}
	return h.Check(c)
}

// savedKind claims the channel's keys, refusing keys held by another
// channel (R-F1), and runs the kind's Saved hook.
func (s *Service) savedKind(ctx context.Context, tx sb.Tx, op string, c *sb.Channel, keys []string) error {
	h, ok := s.kinds[c.Kind]
	if !ok {
		return nil
	}
	for _, k := range keys {
		other, err := tx.ChannelByKey(ctx, k)
		if err != nil && !sb.IsKind(err, sb.NotFound) {
			return err
		}
		if other != nil && other.ID != c.ID {
			return &sb.Error{Op: op, Kind: sb.RuleViolation, Code: "already_connected", Field: "config",
				Message: strings.ReplaceAll(k, ":", " ") + " is already connected to another channel, here or in another account; disconnect it there first (R-F1: it can belong to one account only)"}
		}
	}
	if err := tx.SetChannelKeys(ctx, c.AccountID, c.ID, keys); err != nil {
		return err
	}
	if h.Saved != nil {
		return h.Saved(ctx, tx, c)
	}
	return nil
}

// SecretMask replaces a secret config value in what the API returns.
const SecretMask = "********"

// isSecretKey reports whether a top-level channel config key holds a
// secret: write-only, never returned (page access tokens, app secrets,
// verify tokens, webhook secrets, SMTP passwords).
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return k == "secret" || k == "token" || strings.HasSuffix(k, "_token") || strings.HasSuffix(k, "_secret") || strings.HasSuffix(k, "password")
}

// redactConfig returns config with every non-empty secret value replaced
// by SecretMask.
func redactConfig(config json.RawMessage) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(config, &obj) != nil {
		return config
	}
	changed := false
	for k, v := range obj {
		if isSecretKey(k) && string(v) != `""` && string(v) != "null" {
			obj[k] = json.RawMessage(`"` + SecretMask + `"`)
			changed = true
		}
	}
	if !changed {
		return config
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return config
	}
	return out
}

// keepSecrets makes secrets write-only on update: a secret that the new
// config leaves out, or sends back as SecretMask, keeps its stored value.
// An explicit "" clears it.
func keepSecrets(old, next json.RawMessage) json.RawMessage {
	var o, n map[string]json.RawMessage
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(next, &n) != nil || n == nil {
		return next
	}
	for k, v := range o {
		if !isSecretKey(k) {
			continue
		}
		if nv, ok := n[k]; !ok || string(nv) == `"`+SecretMask+`"` {
			n[k] = v
		}
	}
	out, err := json.Marshal(n)
	if err != nil {
		return next
	}
	return out
}
