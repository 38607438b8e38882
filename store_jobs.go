package switchboard

import (
	"context"
	"encoding/json"
	"time"
)

// Job states.
const (
	JobPending   = "pending"   // waiting until RunAt
	JobRunning   = "running"   // claimed by a process until its lease ends
	JobDone      = "done"      // finished
	JobFailed    = "failed"    // gave up: a permanent error or too many attempts
	JobCancelled = "cancelled" // cancelled before it ran (a reply timer after a reply)
)

// Job is one unit of durable background work: an outgoing email or reply,
// a webhook delivery, a reply timer. Jobs commit with the writes that
// cause them and survive restarts.
type Job struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Kind      string `json:"kind"`
	// Key, if set, makes the job one of a kind: there is at most one
	// pending job per (account, kind, key), and enqueuing another replaces
	// its payload and run time. CancelJobs finds jobs by it.
	Key       string          `json:"key,omitempty"`
	Payload   json.RawMessage `json:"payload"`
	RunAt     time.Time       `json:"run_at"`
	Attempts  int             `json:"attempts"`
	Status    string          `json:"status"`
	LastError string          `json:"last_error,omitempty"`
	// LockedUntil is the end of a running job's lease.
	LockedUntil time.Time `json:"locked_until,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// JobTx is the job queue's part of a transaction.
type JobTx interface {
	// EnqueueJob stores j as pending (ID generated if empty; Status,
	// Attempts and LastError are reset). With a Key, a pending job of the
	// same account, kind and key is updated instead (its ID is put in j.ID).
	EnqueueJob(ctx context.Context, j *Job) error
	// ClaimJobs takes up to limit jobs of any account that are pending and
	// due at now, or running with a lease that ended before now (their
	// process died), oldest RunAt first. It marks them running until
	// now+lease and counts an attempt. Concurrent claims in other
	// processes never take the same job.
	ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Job, error)
	// UpdateJob writes Status, RunAt, Attempts, LastError, LockedUntil
	// and UpdatedAt.
	UpdateJob(ctx context.Context, j *Job) error
	// CancelJobs cancels the account's pending jobs of this kind and key,
	// and reports how many there were.
	CancelJobs(ctx context.Context, accountID, kind, key string) (int, error)
	Job(ctx context.Context, accountID, id string) (*Job, error)
	// Jobs lists the account's jobs of a kind, newest first.
	Jobs(ctx context.Context, accountID, kind string, limit int) ([]*Job, error)
}
