package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Chatflow kinds (R-I2): a live chat goes straight to the channel's
// routing rule; a bot asks its steps first and hands over through a "send
// to team member" step (R-A4).
const (
	ChatflowLive = "live"
	ChatflowBot  = "bot"
)

// Chatflow step types.
const (
	StepMessage      = "message"             // the bot says Text
	StepQuestion     = "question"            // the bot asks Text and stores the answer on the contact's Field
	StepSendToMember = "send_to_team_member" // hand over to the step's UserIDs (R-A4)
)

// Chatflow is a chat channel's flow, kept in its config under "chatflow".
type Chatflow struct {
	Kind  string         `json:"kind"`
	Steps []ChatflowStep `json:"steps"`
}

// ChatflowStep is one step of a bot chatflow.
type ChatflowStep struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
	// Field is where a question's answer is stored on the contact: email,
	// name or phone.
	Field string `json:"field,omitempty"`
	// UserIDs are the users a send_to_team_member step hands over to: the
	// only candidates of the conversation (R-A4).
	UserIDs []string `json:"user_ids,omitempty"`
}

// maxChatflowSteps bounds a bot's steps.
const maxChatflowSteps = 20

// chatflowOf reads a channel's chatflow from its config; a channel without
// one has a live flow.
func chatflowOf(ch *sb.Channel) (Chatflow, error) {
	var cfg struct {
		Chatflow *Chatflow `json:"chatflow"`
	}
	if len(ch.Config) > 0 {
		if err := json.Unmarshal(ch.Config, &cfg); err != nil {
			return Chatflow{}, err
		}
	}
	if cfg.Chatflow == nil {
		return Chatflow{Kind: ChatflowLive, Steps: []ChatflowStep{}}, nil
	}
	if cfg.Chatflow.Kind == "" {
		cfg.Chatflow.Kind = ChatflowLive
	}
	if cfg.Chatflow.Steps == nil {
		cfg.Chatflow.Steps = []ChatflowStep{}
	}
	return *cfg.Chatflow, nil
}

// stepUsers returns the users of a bot chatflow's send_to_team_member step,
// the only candidates of its conversations (R-A4), or nil when the channel
// has no such step (then the rule's candidates stand). Only chat channels
// have chatflows.
func stepUsers(ch *sb.Channel) []string {
	if ch == nil || ch.Kind != sb.KindChat || !bytes.Contains(ch.Config, []byte(StepSendToMember)) {
		return nil
	}
	f, err := chatflowOf(ch)
	if err != nil || f.Kind != ChatflowBot {
		return nil
	}
	for _, st := range f.Steps {
		if st.Type == StepSendToMember {
			return append([]string{}, st.UserIDs...)
		}
	}
	return nil
}

// checkChatflow validates a chat channel's chatflow: its kind and steps,
// and that a hand-over step names only users who may be routed the
// channel's conversations: with a paid seat (R-A2) and access to its inbox
// (R-A3).
// checkChatflowOf checks a chat channel's chatflow (R-A2, R-A3, R-A4);
// other kinds have none.
func (cfg *accountConfig) checkChatflowOf(op string, c *sb.Channel) error {
	if c.Kind != sb.KindChat {
		return nil
	}
	return cfg.checkChatflow(op, c)
}

func (cfg *accountConfig) checkChatflow(op string, c *sb.Channel) error {
	f, err := chatflowOf(c)
	if err != nil {
		return sb.Invalidf(op, "config.chatflow", "config.chatflow must be an object {kind, steps}: %v", jsonProblem(err))
	}
	switch f.Kind {
	case ChatflowLive:
		if len(f.Steps) > 0 {
			return sb.Invalidf(op, "config.chatflow.steps", "a live chatflow has no steps; use kind bot for steps")
		}
		return nil
	case ChatflowBot:
	default:
		return sb.Invalidf(op, "config.chatflow.kind", "config.chatflow.kind must be live or bot")
	}
	if len(f.Steps) > maxChatflowSteps {
		return sb.Invalidf(op, "config.chatflow.steps", "a chatflow has at most %d steps", maxChatflowSteps)
	}
	handovers := 0
	for i, st := range f.Steps {
		field := fmt.Sprintf("config.chatflow.steps[%d]", i)
		switch st.Type {
		case StepMessage, StepQuestion:
			if strings.TrimSpace(st.Text) == "" || len(st.Text) > 1000 {
				return invalidAt(op, field+".text", "step %d needs a text of 1 to 1000 characters", i+1)
			}
			if st.Type == StepQuestion && st.Field != "email" && st.Field != "name" && st.Field != "phone" {
				return invalidAt(op, field+".field", "step %d: a question stores its answer on the contact's email, name or phone", i+1)
			}
		case StepSendToMember:
			handovers++
			if i != len(f.Steps)-1 {
				return invalidAt(op, field+".type", "send_to_team_member must be the last step")
			}
			if len(st.UserIDs) == 0 {
				return invalidAt(op, field+".user_ids", "send_to_team_member needs at least one user (R-A4)")
			}
			if err := cfg.checkTargets(op, field, dedupe(st.UserIDs), nil, cfg.inboxes[c.InboxID]); err != nil {
				return err
			}
		default:
			return invalidAt(op, field+".type", "step %d: type must be message, question or send_to_team_member", i+1)
		}
	}
	if handovers == 0 {
		return sb.Invalidf(op, "config.chatflow.steps", "a bot chatflow ends with a send_to_team_member step (R-A4)")
	}
	return nil
}

// GetChatflow returns a chat channel's chatflow. Admins only.
func (s *Service) GetChatflow(ctx context.Context, a Actor, channelID string) (*Chatflow, error) {
	const op = "app.GetChatflow"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	var out Chatflow
	err := s.store.View(ctx, func(tx sb.Tx) error {
		c, err := chatChannel(ctx, tx, op, a.AccountID, channelID)
		if err != nil {
			return err
		}
		out, err = chatflowOf(c)
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &out, nil
}

// SetChatflow replaces a chat channel's chatflow, with the checks of
// UpdateChannel (R-I3) and of checkChatflow (R-A2, R-A3, R-A4). Changing
// the flow may change who waiting conversations can go to, so the backlog
// is drained (R-X2).
func (s *Service) SetChatflow(ctx context.Context, a Actor, channelID string, f Chatflow) (*Chatflow, error) {
	const op = "app.SetChatflow"
	if err := requireAdmin(op, a); err != nil {
		return nil, err
	}
	if f.Kind == "" {
		f.Kind = ChatflowLive
	}
	if f.Steps == nil {
		f.Steps = []ChatflowStep{}
	}
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error {
		c, err := chatChannel(ctx, tx, op, a.AccountID, channelID)
		if err != nil {
			return err
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(c.Config, &obj); err != nil || obj == nil {
			obj = map[string]json.RawMessage{}
		}
		if obj["chatflow"], err = json.Marshal(f); err != nil {
			return err
		}
		if c.Config, err = json.Marshal(obj); err != nil {
			return err
		}
		cfg, err := loadAccountConfig(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if err := cfg.checkChannel(op, a, c, false); err != nil {
			return err
		}
		if err := cfg.checkChatflowOf(op, c); err != nil {
			return err
		}
		if _, err := s.checkKind(c); err != nil {
			return sb.Wrap(op, err)
		}
		if err := tx.UpdateChannel(ctx, c); err != nil {
			return err
		}
		return s.drainAll(ctx, tx, a.AccountID)
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &f, nil
}

// chatChannel loads a channel that must be a chat channel.
func chatChannel(ctx context.Context, tx sb.Tx, op, accountID, id string) (*sb.Channel, error) {
	c, err := tx.Channel(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	if c.Kind != sb.KindChat {
		return nil, sb.E(op, sb.NotFound, "not_a_chat_channel", "channel %s is not a chat channel; only chat channels have a chatflow", id)
	}
	return c, nil
}

// jsonProblem describes a JSON decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s has the wrong type (%s)", te.Field, te.Value)
		}
		return fmt.Sprintf("wrong type (%s)", te.Value)
	}
	return "not valid JSON"
}

// invalidAt is sb.Invalidf for a field with list indexes ("x.steps[2].text"):
// the code leaves the indexes out, as codes are snake_case words.
func invalidAt(op, field, format string, args ...any) *sb.Error {
	e := sb.Invalidf(op, field, format, args...)
	e.Code = "invalid_" + indexRE.ReplaceAllString(field, "")
	return e
}

var indexRE = regexp.MustCompile(`\[\d+\]`)
