package app

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Defaults of the job worker.
const (
	defaultJobPoll        = time.Second
	defaultJobBackoff     = 10 * time.Second
	maxJobBackoff         = time.Hour
	defaultJobMaxAttempts = 10
	jobLease              = 2 * time.Minute
	jobWorkers            = 4
	jobTimeout            = time.Minute
)

// JobHandler does one job. An error retries it with backoff, unless it is
// Permanent or the job has used its attempts; then the job fails.
type JobHandler func(ctx context.Context, j *sb.Job) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks a handler's error as not worth retrying (a refused
// recipient, a malformed payload): the job fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// jobQueue is the service's worker state.
type jobQueue struct {
	mu          sync.RWMutex
	handlers    map[string]JobHandler
	wake        chan struct{}
	poll        time.Duration
	backoff     time.Duration
	maxAttempts int
}

// LastAttempt reports whether a failure of this run of j fails it for
// good (its attempts are used up), so that a handler can record why
// (e.g. mark a reply failed) rather than leave it pending.
func (s *Service) LastAttempt(j *sb.Job) bool { return j.Attempts >= s.jobs.maxAttempts }

// HandleJobs registers the handler of a job kind. Call it before Start.
func (s *Service) HandleJobs(kind string, h JobHandler) {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobs.handlers == nil {
		s.jobs.handlers = map[string]JobHandler{}
	}
	s.jobs.handlers[kind] = h
}

func (s *Service) jobHandler(kind string) JobHandler {
	s.jobs.mu.RLock()
	defer s.jobs.mu.RUnlock()
	return s.jobs.handlers[kind]
}

// Enqueue adds a job inside tx, so that it commits (or not) with the
// writes that cause it. RunAt defaults to now. Call it inside Update (or a
// use case's transaction), which wakes the worker after commit.
func (s *Service) Enqueue(ctx context.Context, tx sb.Tx, j *sb.Job) error {
	now := s.Now()
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	return tx.EnqueueJob(ctx, j)
}

// Update runs fn in a read-write transaction of the account, for adapters
// that write their own rows atomically with jobs (see Store.Update).
func (s *Service) Update(ctx context.Context, accountID string, fn func(tx sb.Tx) error) error {
	return s.update(ctx, accountID, fn)
}

// View runs fn in a read-only transaction.
func (s *Service) View(ctx context.Context, fn func(tx sb.Tx) error) error {
	return s.store.View(ctx, fn)
}

// wakeJobs tells the worker that jobs may be due now.
func (s *Service) wakeJobs() {
	select {
	case s.jobs.wake <- struct{}{}:
	default:
	}
}

// runJobs claims due jobs every poll interval, or at once when woken, and
// runs up to jobWorkers of them at a time. It returns when ctx ends, after
// the jobs it runs have finished.
func (s *Service) runJobs(ctx context.Context) {
	var running sync.WaitGroup
	defer running.Wait()
	slots := make(chan struct{}, jobWorkers)
	tick := time.NewTicker(s.jobs.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.jobs.wake:
		}
		free := cap(slots) - len(slots)
		if free == 0 {
			continue
		}
		var claimed []*sb.Job
		err := s.store.Update(ctx, "", func(tx sb.Tx) error {
			var err error
			claimed, err = tx.ClaimJobs(ctx, s.Now(), jobLease, free)
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("claiming jobs failed", "err", err)
			}
			continue
		}
		sort.Slice(claimed, func(i, k int) bool { return claimed[i].RunAt.Before(claimed[k].RunAt) })
		for _, j := range claimed {
			slots <- struct{}{}
			running.Go(func() {
				defer func() { <-slots; s.wakeJobs() }()
				s.runJob(context.WithoutCancel(ctx), j)
			})
		}
	}
}

// runJob runs one claimed job and records its outcome.
func (s *Service) runJob(ctx context.Context, j *sb.Job) {
	err := s.callHandler(ctx, j)
	now := s.Now()
	j.UpdatedAt, j.LockedUntil = now, time.Time{}
	switch {
	case err == nil:
		j.Status, j.LastError = sb.JobDone, ""
	case IsPermanent(err) || j.Attempts >= s.jobs.maxAttempts:
		j.Status, j.LastError = sb.JobFailed, err.Error()
		s.log.Warn("job failed for good", "job_id", j.ID, "kind", j.Kind, "attempts", j.Attempts, "err", err)
	default:
		j.Status, j.LastError = sb.JobPending, err.Error()
		j.RunAt = now.Add(s.backoff(j.Attempts))
		s.log.Info("job will be retried", "job_id", j.ID, "kind", j.Kind, "attempts", j.Attempts, "retry_at", j.RunAt, "err", err)
	}
	uerr := s.store.Update(ctx, j.AccountID, func(tx sb.Tx) error { return tx.UpdateJob(ctx, j) })
	if uerr != nil {
		// The lease runs out and another claim runs the job again.
		s.log.Error("recording a job's outcome failed", "job_id", j.ID, "kind", j.Kind, "err", uerr)
	}
}

// callHandler runs j's handler with a timeout; a panic is an error.
func (s *Service) callHandler(ctx context.Context, j *sb.Job) (err error) {
	h := s.jobHandler(j.Kind)
	if h == nil {
		return Permanent(fmt.Errorf("no handler for job kind %q in this build", j.Kind))
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("job handler panicked", "job_id", j.ID, "kind", j.Kind, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("the handler panicked: %v", v)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, jobTimeout)
	defer cancel()
	return h(ctx, j)
}

// backoff is the wait before attempt n+1: the base doubled per attempt,
// at most maxJobBackoff.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.jobs.backoff
	for i := 1; i < attempts && d < maxJobBackoff; i++ {
		d *= 2
	}
	return min(d, maxJobBackoff)
}
