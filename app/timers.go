package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// JobReplyTimer is R-X3's timer: one pending job per conversation (its
// key), due when the assignee's time to reply runs out.
const JobReplyTimer = "timer.reply"

// EventTeamNotification tells the team that a conversation went back to
// the Unassigned view because nobody replied in time (R-X3).
const EventTeamNotification = "team.notification"

// maxReplyTimerMinutes bounds a channel's reply timer: a week.
const maxReplyTimerMinutes = 7 * 24 * 60

// replyTimer is JobReplyTimer's payload.
type replyTimer struct {
	ConversationID string    `json:"conversation_id"`
	AssigneeID     string    `json:"assignee_id"`
	AssignedAt     time.Time `json:"assigned_at"`
	// Tried are the users the conversation was routed to so far, in order;
	// the next hop excludes them.
	Tried []string `json:"tried"`
}

// replyTimerJob returns the timer for c just routed to its assignee, or nil
// when the channel has no timer or c has no assignee. tried are the users
// tried before this one.
func replyTimerJob(ch *sb.Channel, c *sb.Conversation, tried []string, now time.Time) (*sb.Job, error) {
	n := ch.Routing.ReplyTimerMinutes
	if n <= 0 || !ch.Routing.Enabled || c.AssigneeID == "" {
		return nil, nil
	}
	t := replyTimer{ConversationID: c.ID, AssigneeID: c.AssigneeID, AssignedAt: now, Tried: append(slices.Clip(tried), c.AssigneeID)}
	payload, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	return &sb.Job{AccountID: c.AccountID, Kind: JobReplyTimer, Key: c.ID, Payload: payload,
		RunAt: now.Add(time.Duration(n) * time.Minute), CreatedAt: now}, nil
}

// startReplyTimer queues c's timer in the batch, if its channel has one.
func (b *batch) startReplyTimer(ch *sb.Channel, c *sb.Conversation, tried []string) error {
	j, err := replyTimerJob(ch, c, tried, b.now)
	if j != nil {
		b.jobs = append(b.jobs, j)
	}
	return err
}

// startReplyTimer enqueues c's timer in tx, if its channel has one.
func (s *Service) startReplyTimer(ctx context.Context, tx sb.Tx, ch *sb.Channel, c *sb.Conversation, tried []string) error {
	j, err := replyTimerJob(ch, c, tried, s.Now())
	if j == nil || err != nil {
		return err
	}
	return s.Enqueue(ctx, tx, j)
}

// stopReplyTimer cancels c's timer: someone replied, closed it or assigned
// it by hand.
func stopReplyTimer(ctx context.Context, tx sb.Tx, c *sb.Conversation) error {
	_, err := tx.CancelJobs(ctx, c.AccountID, JobReplyTimer, c.ID)
	return err
}

// fireReplyTimer is R-X3: the assignee has not replied in time, so the
// conversation is routed again by its channel's rule, to the next
// candidate not tried yet; with none left it goes back to the Unassigned
// view and the team is told. Every hop is a decision record (R-A12). A
// timer that is out of date (the conversation was closed, reassigned or
// answered meanwhile) does nothing, so running it twice is harmless.
func (s *Service) fireReplyTimer(ctx context.Context, j *sb.Job) error {
	var t replyTimer
	if err := json.Unmarshal(j.Payload, &t); err != nil {
		return Permanent(fmt.Errorf("reply timer payload: %w", err))
	}
	return s.update(ctx, j.AccountID, func(tx sb.Tx) error {
		c, err := tx.Conversation(ctx, j.AccountID, t.ConversationID)
		if sb.IsKind(err, sb.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if c.Status != sb.StatusOpen || c.AssigneeID != t.AssigneeID {
			return nil
		}
		msgs, err := tx.Messages(ctx, j.AccountID, c.ID)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Direction == sb.DirectionOut && !m.CreatedAt.Before(t.AssignedAt) {
				return nil // answered
			}
		}
		ch, err := tx.Channel(ctx, j.AccountID, c.ChannelID)
		if sb.IsKind(err, sb.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if !ch.Routing.Enabled || ch.Routing.ReplyTimerMinutes <= 0 {
			return nil
		}
		contact, err := tx.Contact(ctx, j.AccountID, c.ContactID)
		if err != nil {
			return err
		}
		snap, err := s.snapshot(ctx, tx, j.AccountID)
		if err != nil {
			return err
		}
		res := snap.Pool(ch).Decide(routing.Arrival{Trigger: sb.TriggerReplyTimer, Contact: contact, ContactKnown: true, Exclude: t.Tried, StepUserIDs: stepUsers(ch)}, lockedRand{s})
		d := res.Record(snap)
		d.ID, d.AccountID, d.ConversationID, d.Trigger, d.CreatedAt = s.newID(), j.AccountID, c.ID, sb.TriggerReplyTimer, s.Now()
		users, err := tx.Users(ctx, j.AccountID)
		if err != nil {
			return err
		}
		names := make(map[string]string, len(users))
		for _, u := range users {
			names[u.ID] = u.Name
		}
		late := fmt.Sprintf("%s did not reply within %d minutes, so it was routed again without %s. ",
			label(names, t.AssigneeID), ch.Routing.ReplyTimerMinutes, labels(names, t.Tried))
		d.Reason = late + d.Reason
		if err := s.assign(ctx, tx, c, res.AssigneeID, c.TeamID, &d); err != nil {
			return err
		}
		if res.AssigneeID != "" {
			return s.startReplyTimer(ctx, tx, ch, c, t.Tried)
		}
		data, err := json.Marshal(map[string]any{"conversation_id": c.ID, "reason": "reply_timer",
			"message": late + "Nobody else could take it; it is back in the Unassigned view.", "tried": t.Tried})
		if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &sb.Event{AccountID: c.AccountID, Type: EventTeamNotification, InboxID: c.InboxID,
			ConversationID: c.ID, Data: data, CreatedAt: s.Now()})
	})
}

func label(names map[string]string, id string) string {
	if n := names[id]; n != "" {
		return n
	}
	return id
}

// labels names the users as "A", "A and B", "A, B and C".
func labels(names map[string]string, ids []string) string {
	ls := make([]string, len(ids))
	for i, id := range ids {
		ls[i] = label(names, id)
	}
	if len(ls) < 2 {
		return strings.Join(ls, "")
	}
	return strings.Join(ls[:len(ls)-1], ", ") + " and " + ls[len(ls)-1]
}
