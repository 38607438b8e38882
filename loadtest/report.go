package loadtest

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Durations are nanoseconds in JSON.
type Report struct {
	// RunID is the suffix of this run's emails, names and external ids.
	RunID string `json:"run_id"`
	// Requests is how many inbound requests got an answer (or failed to
	// connect); Errors how many of them were not 2xx or got no answer.
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// ErrorCodes counts the errors by the code of their body's error,
	// "http_<status>" when the body had none, or "transport".
	ErrorCodes map[string]int `json:"error_codes,omitempty"`
	// Duplicates counts 2xx answers that said duplicate: true, which the
	// run's unique external ids should never get.
	Duplicates int `json:"duplicates"`
	// Elapsed is the time the load took; Throughput is Requests per second
	// of it.
	Elapsed    time.Duration `json:"elapsed_ns"`
	Throughput float64       `json:"throughput_rps"`
	// Latency percentiles (nearest rank) and maximum of all the requests
	// counted in Requests, errors included.
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	// Conversations is how many open conversations the run's inbox holds
	// afterwards (a few more than the successful requests when the run was
	// cut short at Duration: the server may have stored requests whose
	// answer the run no longer waited for); Unassigned how many of them have
	// no assignee.
	Conversations int `json:"conversations"`
	Unassigned    int `json:"unassigned"`
	// MinLoad and MaxLoad are the fewest and most of those conversations any
	// agent of the run was assigned; AssignedSpread is MaxLoad − MinLoad.
	// Least-busy routing of chat-like channels keeps it at most 1.
	MinLoad        int `json:"min_load"`
	MaxLoad        int `json:"max_load"`
	AssignedSpread int `json:"assigned_spread"`
}

// newReport merges the workers' tallies.
func newReport(tallies []tally, elapsed time.Duration) *Report {
	rep := &Report{Elapsed: elapsed}
	var all []time.Duration
	for _, t := range tallies {
		all = append(all, t.latencies...)
		rep.Duplicates += t.duplicates
		for code, n := range t.errors {
			if rep.ErrorCodes == nil {
				rep.ErrorCodes = make(map[string]int)
			}
			rep.ErrorCodes[code] += n
			rep.Errors += n
		}
	}
	rep.Requests = len(all)
	if elapsed > 0 {
		rep.Throughput = float64(rep.Requests) / elapsed.Seconds()
	}
	slices.Sort(all)
	rep.P50, rep.P90, rep.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	if len(all) > 0 {
		rep.Max = all[len(all)-1]
	}
	return rep
}

// percentile returns the nearest-rank p-th percentile of sorted, 0 if it is
// empty.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ⌈p/100 · n⌉
	return sorted[max(rank, 1)-1]
}

// Print writes r to w as a short table for people.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\t%s\n", r.RunID)
	fmt.Fprintf(tw, "requests\t%d\n", r.Requests)
	fmt.Fprintf(tw, "errors\t%d%s\n", r.Errors, r.errorCodes())
	if r.Duplicates > 0 {
		fmt.Fprintf(tw, "duplicates\t%d\n", r.Duplicates)
	}
	fmt.Fprintf(tw, "elapsed\t%s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(tw, "throughput\t%.1f req/s\n", r.Throughput)
	fmt.Fprintf(tw, "latency\tp50 %s  p90 %s  p99 %s  max %s\n", round(r.P50), round(r.P90), round(r.P99), round(r.Max))
	fmt.Fprintf(tw, "conversations\t%d open, %d unassigned\n", r.Conversations, r.Unassigned)
	fmt.Fprintf(tw, "assigned per agent\tmin %d  max %d  spread %d\n", r.MinLoad, r.MaxLoad, r.AssignedSpread)
	tw.Flush()
}

// errorCodes formats ErrorCodes as " (code n, …)", most frequent first.
func (r *Report) errorCodes() string {
	if len(r.ErrorCodes) == 0 {
		return ""
	}
	codes := slices.SortedFunc(maps.Keys(r.ErrorCodes), func(a, b string) int {
		if d := r.ErrorCodes[b] - r.ErrorCodes[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%s %d", c, r.ErrorCodes[c])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// round shortens d for people: microseconds below a second.
func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
