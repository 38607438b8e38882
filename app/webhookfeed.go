package app

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// The webhook feed turns committed events into delivery jobs (R-X8).
//
// Each subscription keeps a cursor in the database: the id of the last
// event of the account's log it has looked at. The feed reads the events
// after the smallest cursor, enqueues one job per (subscription, matching
// event) and moves the cursors, all in one transaction under the
// account's lock, so an event is queued exactly once and none is lost
// across a restart: at start the feed catches up every account with an
// active subscription. Within an account event ids grow in commit order
// (events are only appended under that lock), so a cursor never skips an
// event that commits later.
//
// The feed is woken by the store's event stream of the accounts it
// watches, and looks at every such account again every
// webhookFeedRescan (subscriptions made by other processes, events a slow
// stream dropped).

const (
	webhookFeedRescan = 10 * time.Second
	webhookFeedBatch  = 500
	// webhookFeedPause is the least time between two passes: under load
	// every routing commit wakes the feed, and each pass is a write
	// transaction of the account, so passes are gathered (at most ten a
	// second) rather than run per commit.
	webhookFeedPause = 100 * time.Millisecond
)

// webhookState is the service's webhook feed state.
type webhookState struct {
	mu       sync.Mutex
	urlCheck func(u *url.URL) error
	pending  map[string]bool // accounts to feed
	toWatch  map[string]bool // accounts whose event stream to follow
	wake     chan struct{}
}

func (h *webhookState) wakeChan() chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.wake == nil {
		h.wake = make(chan struct{}, 1)
	}
	return h.wake
}

// mark asks the feed to look at the account, and to follow its stream if
// watch.
func (h *webhookState) mark(accountID string, watch bool) {
	h.mu.Lock()
	if h.pending == nil {
		h.pending, h.toWatch = map[string]bool{}, map[string]bool{}
	}
	h.pending[accountID] = true
	if watch {
		h.toWatch[accountID] = true
	}
	h.mu.Unlock()
	select {
	case h.wakeChan() <- struct{}{}:
	default:
	}
}

// watch is mark for an account whose subscriptions changed.
func (h *webhookState) watch(accountID string) { h.mark(accountID, true) }

// take returns and clears the accounts to feed and to start watching.
func (h *webhookState) take() (pending, watch []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id := range h.pending {
		pending = append(pending, id)
	}
	for id := range h.toWatch {
		watch = append(watch, id)
	}
	clear(h.pending)
	clear(h.toWatch)
	return pending, watch
}

// runWebhookFeed feeds subscriptions until ctx ends.
func (s *Service) runWebhookFeed(ctx context.Context) {
	h := &s.webhooks
	wake := h.wakeChan()
	var streams sync.WaitGroup
	defer streams.Wait()
	watched := map[string]bool{}
	rescan := time.NewTicker(webhookFeedRescan)
	defer rescan.Stop()
	s.rescanWebhooks(ctx)
	for {
		pending, watch := h.take()
		for _, id := range watch {
			if !watched[id] {
				watched[id] = true
				streams.Go(func() {
					for range s.store.Subscribe(ctx, id) {
						h.mark(id, false)
					}
				})
			}
		}
		slices.Sort(pending)
		for _, id := range pending {
			if err := s.feedWebhooks(ctx, id); err != nil && ctx.Err() == nil {
				s.log.Error("queueing webhook deliveries failed; retrying at the next rescan", "account_id", id, "err", err)
			}
		}
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(webhookFeedPause):
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-rescan.C:
			s.rescanWebhooks(ctx)
		}
	}
}

// rescanWebhooks marks every account with an active subscription.
func (s *Service) rescanWebhooks(ctx context.Context) {
	var ids []string
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		ids, err = tx.WebhookAccounts(ctx)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("listing accounts with webhooks failed", "err", err)
		}
		return
	}
	for _, id := range ids {
		s.webhooks.mark(id, true)
	}
}

// feedWebhooks queues the account's undelivered events for its active
// subscriptions, in transactions of up to webhookFeedBatch events. A read
// first checks that there is something to queue, so that idle rescans do
// not take the account's lock.
func (s *Service) feedWebhooks(ctx context.Context, accountID string) error {
	behind := false
	err := s.store.View(ctx, func(tx sb.Tx) error {
		hooks, err := tx.Webhooks(ctx, accountID)
		if err != nil {
			return err
		}
		last, err := tx.LastEventID(ctx, accountID)
		for _, w := range hooks {
			behind = behind || (w.Active && w.Cursor < last)
		}
		return err
	})
	if err != nil || !behind {
		return err
	}
	for {
		var more bool
		queued := 0
		err := s.store.Update(ctx, accountID, func(tx sb.Tx) error {
			var err error
			more, queued, err = s.feedBatch(ctx, tx, accountID)
			return err
		})
		if err != nil {
			return err
		}
		if queued > 0 {
			s.wakeJobs()
		}
		if !more {
			return nil
		}
	}
}

// feedBatch is one transaction of feedWebhooks. more reports that there
// may be more events to look at.
func (s *Service) feedBatch(ctx context.Context, tx sb.Tx, accountID string) (more bool, queued int, err error) {
	all, err := tx.Webhooks(ctx, accountID)
	if err != nil {
		return false, 0, err
	}
	var hooks []*sb.Webhook
	from := int64(-1)
	for _, w := range all {
		if w.Active {
			hooks = append(hooks, w)
			if from < 0 || w.Cursor < from {
				from = w.Cursor
			}
		}
	}
	if len(hooks) == 0 {
		return false, 0, nil
	}
	events, err := tx.EventsSince(ctx, accountID, from, webhookFeedBatch)
	if err != nil || len(events) == 0 {
		return false, 0, err
	}
	for _, w := range hooks {
		last := w.Cursor
		for _, e := range events {
			if e.ID <= w.Cursor {
				continue
			}
			last = e.ID
			if !slices.Contains(w.Events, e.Type) {
				continue
			}
			payload, err := json.Marshal(WebhookJob{WebhookID: w.ID, EventID: e.ID})
			if err != nil {
				return false, 0, err
			}
			j := &sb.Job{AccountID: accountID, Kind: JobWebhook, Key: w.ID + ":" + strconv.FormatInt(e.ID, 10), Payload: payload}
			if err := s.Enqueue(ctx, tx, j); err != nil {
				return false, 0, err
			}
			queued++
		}
		if last > w.Cursor {
			if err := tx.SetWebhookCursor(ctx, accountID, w.ID, last); err != nil {
				return false, 0, err
			}
		}
	}
	return len(events) == webhookFeedBatch, queued, nil
}
