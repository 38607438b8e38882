package sqlstore

import (
	"context"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

const jobColumns = `id, account_id, kind, key, payload, run_at, attempts, status, last_error,
	locked_until, created_at, updated_at`

// jobDue is the claimable condition; $1 is now.
const jobDue = `(status = 'pending' AND run_at <= $1) OR (status = 'running' AND locked_until < $1)`

var (
	// A keyed job replaces the pending one with its key (the partial
	// unique index jobs_pending_key).
	mEnqueueJob = newQuery("enqueue_job", `INSERT INTO jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, 0, 'pending', '', 0, $7, $7)
		ON CONFLICT (account_id, kind, key) WHERE status = 'pending' AND key <> ''
		DO UPDATE SET payload = excluded.payload, run_at = excluded.run_at, updated_at = excluded.updated_at
		RETURNING id, created_at`)
	// SKIP LOCKED: two processes claiming at once take different jobs.
	mClaimJobs = newDialectQuery("claim_jobs",
		`UPDATE jobs SET status = 'running', locked_until = $2, attempts = attempts + 1, updated_at = $1
			WHERE id IN (SELECT id FROM jobs WHERE `+jobDue+` ORDER BY run_at, id LIMIT $3)
			RETURNING `+jobColumns,
		`UPDATE jobs SET status = 'running', locked_until = $2, attempts = attempts + 1, updated_at = $1
			WHERE id IN (SELECT id FROM jobs WHERE `+jobDue+` ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
			RETURNING `+jobColumns)
	mUpdateJob = newQuery("update_job", `UPDATE jobs SET status = $3, run_at = $4, attempts = $5,
		last_error = $6, locked_until = $7, updated_at = $8 WHERE id = $2 AND account_id = $1`)
	mCancelJobs = newQuery("cancel_jobs", `UPDATE jobs SET status = 'cancelled', updated_at = $4
		WHERE account_id = $1 AND kind = $2 AND key = $3 AND key <> '' AND status = 'pending'`)
	qJob  = newQuery("job", `SELECT `+jobColumns+` FROM jobs WHERE id = $2 AND account_id = $1`)
	qJobs = newQuery("jobs", `SELECT `+jobColumns+` FROM jobs WHERE account_id = $1 AND kind = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`)
)

// EnqueueJob stores j as pending, or updates the pending job with its key.
func (t *tx) EnqueueJob(ctx context.Context, j *sb.Job) error {
	const op, what = "sqlstore.EnqueueJob", "job"
	id, err := newID(j.ID)
	if err != nil {
		return t.classify(op, err, what)
	}
	payload := rawText(j.Payload)
	if payload == "" {
		payload = "null"
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if !j.CreatedAt.IsZero() {
		now = j.CreatedAt
	}
	var created int64
	err = t.queryRow(ctx, mEnqueueJob, id, j.AccountID, j.Kind, j.Key, payload, micros(j.RunAt), micros(now)).Scan(&id, &created)
	if err != nil {
		return t.classify(op, err, what)
	}
	j.ID, j.CreatedAt, j.UpdatedAt = id, fromMicros(created), now
	j.Status, j.Attempts, j.LastError, j.LockedUntil = sb.JobPending, 0, "", time.Time{}
	return nil
}

// ClaimJobs leases up to limit due jobs of any account.
func (t *tx) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*sb.Job, error) {
	return list(ctx, t, "sqlstore.ClaimJobs", "jobs", scanJob, mClaimJobs.of(t), micros(now), micros(now.Add(lease)), limit)
}

// UpdateJob writes a claimed job's outcome.
func (t *tx) UpdateJob(ctx context.Context, j *sb.Job) error {
	return t.execOne(ctx, "sqlstore.UpdateJob", "job", mUpdateJob, j.AccountID, j.ID, j.Status, micros(j.RunAt),
		j.Attempts, j.LastError, micros(j.LockedUntil), micros(j.UpdatedAt))
}

// CancelJobs cancels the pending jobs with this kind and key.
func (t *tx) CancelJobs(ctx context.Context, accountID, kind, key string) (int, error) {
	const op = "sqlstore.CancelJobs"
	res, err := t.exec(ctx, mCancelJobs, accountID, kind, key, micros(time.Now()))
	if err != nil {
		return 0, t.classify(op, err, "jobs")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.classify(op, err, "jobs")
	}
	return int(n), nil
}

// Job returns the account's job with this id.
func (t *tx) Job(ctx context.Context, accountID, id string) (*sb.Job, error) {
	return one(ctx, t, "sqlstore.Job", "job", scanJob, qJob, accountID, id)
}

// Jobs lists the account's jobs of a kind, newest first.
func (t *tx) Jobs(ctx context.Context, accountID, kind string, n int) ([]*sb.Job, error) {
	return list(ctx, t, "sqlstore.Jobs", "jobs", scanJob, qJobs, accountID, kind, limit(n, 50, 500))
}

func scanJob(r scanner) (*sb.Job, error) {
	var j sb.Job
	var payload string
	var runAt, locked, created, updated int64
	if err := r.Scan(&j.ID, &j.AccountID, &j.Kind, &j.Key, &payload, &runAt, &j.Attempts, &j.Status,
		&j.LastError, &locked, &created, &updated); err != nil {
		return nil, err
	}
	j.Payload = fromRawText(payload)
	j.RunAt, j.CreatedAt, j.UpdatedAt = fromMicros(runAt), fromMicros(created), fromMicros(updated)
	if locked != 0 {
		j.LockedUntil = fromMicros(locked)
	}
	return &j, nil
}
