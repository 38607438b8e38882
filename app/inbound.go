package app

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// maxExternalID bounds an inbound message's external id.
const maxExternalID = 512

// arrival is one inbound message waiting for the batcher.
type arrival struct {
	accountID string
	channelID string
	in        InboundInput
	enqueued  time.Time
	done      chan arrivalResult
}

type arrivalResult struct {
	res *InboundResult
	err error
}

var errNotStarted = errors.New("app: the service is not running (Start not called, or Close called)")

// Inbound is the generic entry point for integrators (R-I2): a message from
// a contact on any channel of the actor's account. Idempotent on
// ExternalID: a repeat returns the first result with Duplicate set. Admins
// only. The message is stored, routed and its decision recorded in one
// transaction before Inbound returns. Admins and integration tokens may
// call it.
func (s *Service) Inbound(ctx context.Context, a Actor, channelID string, in InboundInput) (*InboundResult, error) {
	const op = "app.Inbound"
	if err := requireInboundSender(op, a); err != nil {
		return nil, err
	}
	return s.Deliver(ctx, a.AccountID, channelID, in)
}

// Deliver is Inbound for the public entry points (widget, forms, webhooks,
// SMTP), which have authenticated the sender their own way and resolved the
// channel's account.
func (s *Service) Deliver(ctx context.Context, accountID, channelID string, in InboundInput) (*InboundResult, error) {
	const op = "app.Deliver"
	if err := validateInbound(op, &in); err != nil {
		return nil, err
	}
	if !s.started.Load() {
		return nil, &sb.Error{Op: op, Kind: sb.Unavailable, Code: "not_running", Message: "the server is not taking messages right now (starting or shutting down); try again shortly", Err: errNotStarted}
	}
	ar := &arrival{accountID: accountID, channelID: channelID, in: in, enqueued: time.Now(), done: make(chan arrivalResult, 1)}
	select {
	case s.arrivals <- ar:
	case <-ctx.Done():
		return nil, sb.E(op, sb.Unavailable, "overloaded", "the server is too busy to take this message now; try again")
	}
	// Once queued, the arrival is always answered (the batcher finishes its
	// queue before it stops), so a committed message is never reported lost.
	r := <-ar.done
	return r.res, r.err
}

func validateInbound(op string, in *InboundInput) error {
	if err := validateBody(op, in.Body); err != nil {
		return err
	}
	c := &in.Contact
	c.Email, c.Name, c.Phone, c.VisitorToken = normEmail(c.Email), strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone), strings.TrimSpace(c.VisitorToken)
	if c.Email == "" && c.Phone == "" && c.VisitorToken == "" {
		return sb.Invalidf(op, "contact", "contact needs an email, a phone or a visitor_token")
	}
	if c.Email != "" {
		if addr, err := mail.ParseAddress(c.Email); err != nil || addr.Address != c.Email {
			return sb.Invalidf(op, "contact.email", "contact.email %q is not a valid email address", c.Email)
		}
	}
	if len(in.ExternalID) > maxExternalID {
		return sb.Invalidf(op, "external_id", "external_id is longer than %d characters", maxExternalID)
	}
	if len(in.Subject) > 998 {
		return sb.Invalidf(op, "subject", "subject is longer than 998 characters")
	}
	return nil
}

// runBatcher takes queued arrivals and routes them in batches: one
// transaction per account per batch, holding the account's routing lock, so
// that concurrent arrivals are serialised and share one commit. It finishes
// the queue before it returns.
func (s *Service) runBatcher(ctx context.Context) {
	for {
		var first *arrival
		select {
		case first = <-s.arrivals:
		case <-ctx.Done():
			for {
				select {
				case ar := <-s.arrivals:
					s.routeGroup(context.WithoutCancel(ctx), []*arrival{ar})
				default:
					return
				}
			}
		}
		batch := []*arrival{first}
	collect:
		for len(batch) < s.batchMax {
			select {
			case ar := <-s.arrivals:
				batch = append(batch, ar)
			default:
				break collect
			}
		}
		for _, g := range groupByAccount(batch) {
			s.routeGroup(context.WithoutCancel(ctx), g)
		}
	}
}

func groupByAccount(batch []*arrival) [][]*arrival {
	if len(batch) == 1 {
		return [][]*arrival{batch}
	}
	idx := map[string]int{}
	var groups [][]*arrival
	for _, ar := range batch {
		i, ok := idx[ar.accountID]
		if !ok {
			i = len(groups)
			idx[ar.accountID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], ar)
	}
	return groups
}

// routeGroup routes one account's arrivals in one transaction. If the
// transaction fails, each arrival is retried alone so that one bad message
// cannot fail the others.
func (s *Service) routeGroup(ctx context.Context, group []*arrival) {
	var results []arrivalResult
	var b *batch
	accountID := group[0].accountID
	start := time.Now()
	var locked, written time.Time
	read := batchRead(group)
	err := s.store.UpdateBatch(ctx, accountID, read, func(tx sb.Tx) error {
		locked = time.Now()
		var err error
		if b, err = s.newBatch(ctx, tx, accountID); err != nil {
			return err
		}
		results, err = b.run(group, read)
		written = time.Now()
		return err
	})
	if err == nil {
		b.times.Lock = locked.Sub(start)
		b.times.Commit = time.Since(written)
		s.metrics.Batch(len(group), b.times)
		s.snaps.committed(accountID, b.rows, b.loads, b.snap)
		if len(b.jobs) > 0 {
			s.wakeJobs()
		}
	} else {
		s.snaps.invalidate(accountID)
	}
	if err != nil && len(group) > 1 {
		for _, ar := range group {
			s.routeGroup(ctx, []*arrival{ar})
		}
		return
	}
	now := time.Now()
	for i, ar := range group {
		var r arrivalResult
		if err != nil {
			r = arrivalResult{err: sb.Wrap("app.Deliver", err)}
			s.log.Error("routing an inbound message failed", "channel_id", ar.channelID, "err", err)
		} else {
			r = results[i]
		}
		if r.res != nil && !r.res.Duplicate && r.res.Decision != nil {
			s.metrics.Routed(r.res.Decision.Outcome, now.Sub(ar.enqueued))
		}
		ar.done <- r
	}
}
