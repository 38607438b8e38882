package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// The inbound request body; field names as in the API.
type (
	inboundContact struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	inboundInput struct {
		Contact    inboundContact `json:"contact"`
		Body       string         `json:"body"`
		ExternalID string         `json:"external_id"`
	}
	inboundResult struct {
		Duplicate bool `json:"duplicate"`
	}
)

// tally is one worker's record; workers never share one, so they need no
// lock.
type tally struct {
	latencies  []time.Duration
	errors     map[string]int
	duplicates int
}

// load posts inbound messages from cfg.Clients workers until cfg.Requests
// are done, cfg.Duration has passed or ctx ends, and reports on them.
// Requests cut short by the end of the run are not counted.
func (r *runner) load(ctx context.Context) *Report {
	if r.cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.Duration)
		defer cancel()
	}
	path := "/api/v1/channels/" + url.PathEscape(r.channelID) + "/inbound"
	var next, done, failed atomic.Int64
	start := time.Now()
	stopProgress := r.progress(start, &done, &failed)

	tallies := make([]tally, r.cfg.Clients)
	var wg sync.WaitGroup
	for w := range tallies {
		t := &tallies[w]
		t.errors = make(map[string]int)
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > int64(r.cfg.Requests) {
					return
				}
				in := inboundInput{
					Contact:    inboundContact{Email: fmt.Sprintf("load-%s-%d@example.test", r.runID, n), Name: fmt.Sprintf("Load contact %d", n)},
					Body:       fmt.Sprintf("Hello from load test contact %d.", n),
					ExternalID: fmt.Sprintf("load-%s-%d", r.runID, n),
				}
				var res inboundResult
				t0 := time.Now()
				var err error
				if r.cfg.SMTPAddr != "" {
					err = r.sendMail(ctx, n)
				} else {
					_, err = r.api.do(ctx, http.MethodPost, path, in, &res)
				}
				lat := time.Since(t0)
				if err != nil && statusOf(err) == 0 && ctx.Err() != nil {
					return // cut short by the end of the run: no answer to count
				}
				t.latencies = append(t.latencies, lat)
				done.Add(1)
				switch {
				case err != nil:
					t.errors[codeOf(err)]++
					failed.Add(1)
				case res.Duplicate:
					t.duplicates++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	rep := newReport(tallies, elapsed)
	rep.RunID = r.runID
	return rep
}

// progress prints the rate so far to cfg.Out every progressEvery until the
// returned function is called.
func (r *runner) progress(start time.Time, done, failed *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		var last int64
		lastAt := start
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				d := done.Load()
				fmt.Fprintf(r.cfg.Out, "%6.1fs  %d/%d requests  %d errors  %.1f req/s (now %.1f req/s)\n",
					now.Sub(start).Seconds(), d, r.cfg.Requests, failed.Load(),
					float64(d)/now.Sub(start).Seconds(), float64(d-last)/now.Sub(lastAt).Seconds())
				last, lastAt = d, now
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}

// verify lists the open conversations of the run's inbox, page by page, and
// fills in rep's assignment counts: conversations, unassigned ones, and the
// spread of conversations per agent (every agent of the run counts, with 0
// if they got none).
func (r *runner) verify(ctx context.Context, rep *Report) error {
	loads := make(map[string]int, len(r.agents))
	for _, id := range r.agents {
		loads[id] = 0
	}
	seenConv := make(map[string]bool)
	seenCursor := make(map[string]bool)
	cursor := ""
	for {
		q := url.Values{"view": {"open"}, "inbox_id": {r.inboxID}, "limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items      []sb.Conversation `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		if _, err := r.api.do(ctx, http.MethodGet, "/api/v1/conversations?"+q.Encode(), nil, &page); err != nil {
			return fmt.Errorf("loadtest: listing the conversations: %w", err)
		}
		for _, c := range page.Items {
			if seenConv[c.ID] {
				return fmt.Errorf("loadtest: listing the conversations: %s is on two pages", c.ID)
			}
			seenConv[c.ID] = true
			rep.Conversations++
			if c.AssigneeID == "" {
				rep.Unassigned++
			} else {
				loads[c.AssigneeID]++
			}
		}
		if page.NextCursor == "" {
			break
		}
		if seenCursor[page.NextCursor] {
			return fmt.Errorf("loadtest: listing the conversations: cursor %q came back", page.NextCursor)
		}
		seenCursor[page.NextCursor] = true
		cursor = page.NextCursor
	}
	rep.MinLoad, rep.MaxLoad = spread(loads)
	rep.AssignedSpread = rep.MaxLoad - rep.MinLoad
	return nil
}

// spread returns the smallest and largest value of loads (0, 0 when empty).
func spread(loads map[string]int) (lo, hi int) {
	first := true
	for _, n := range loads {
		if first {
			lo, hi, first = n, n, false
		}
		lo, hi = min(lo, n), max(hi, n)
	}
	return lo, hi
}
