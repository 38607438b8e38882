// Package app holds Switchboard's use cases: authorization, validation, one
// transaction each, routing through the pure engine, and events. Business
// rules live here once; the stores under it are dumb and the edges above it
// (HTTP, SMTP, the widget) only translate.
package app

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	sb "github.com/switchboard-dev/switchboard"
)

// Config is what a Service needs. Store is required; the rest has defaults.
type Config struct {
	Store   sb.Store
	Logger  *slog.Logger
	Metrics Metrics
	// Now is the clock; default time.Now.
	Now func() time.Time
	// NewID makes ids; default UUIDv7 strings.
	NewID func() string
	// Seed seeds the routing randomness (R-A6 random picks); 0 picks a random seed.
	Seed uint64
	// BatchMax bounds how many arrivals one routing transaction takes (default 128).
	BatchMax int
	// DrainInterval is how often time-based availability changes (working
	// hours, out of office) are checked for backlog drain (default 30s).
	DrainInterval time.Duration
	// PasswordParams tunes password hashing (default: argon2id, 19 MiB, t=2).
	PasswordParams *PasswordParams
	// JobPoll is how often the job worker looks for due jobs (default 1s;
	// jobs enqueued by this process wake it at once).
	JobPoll time.Duration
	// JobBackoff is the first retry's wait, doubled per attempt up to an
	// hour (default 10s). JobMaxAttempts is when a job fails for good
	// (default 10).
	JobBackoff     time.Duration
	JobMaxAttempts int
}

// Service runs the use cases. Start it before Inbound is used; Close it to
// stop its background work.
type Service struct {
	store   sb.Store
	log     *slog.Logger
	metrics Metrics
	now     func() time.Time
	newID   func() string
	pw      PasswordParams

	batchMax      int
	drainInterval time.Duration
	arrivals      chan *arrival
	rnd           *rand.Rand // used only by the batcher goroutine and under rndMu elsewhere
	rndMu         sync.Mutex

	hooks   kindHooks // channel adapters' config checks and close hooks (chat.go)
	tokens  tokenCache
	snaps   snapCache
	touchMu sync.Mutex
	touched map[string]time.Time

	jobs     jobQueue
	outbound map[sb.ChannelKind]Outbound
	webhooks webhookState                        // R-X8 (webhookfeed.go)
	kinds    map[sb.ChannelKind]ChannelKindHooks // channel packages' config hooks, set before Start

	started atomic.Bool
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// New returns a Service over cfg.Store.
func New(cfg Config) *Service {
	s := &Service{
		store:         cfg.Store,
		log:           cfg.Logger,
		metrics:       cfg.Metrics,
		now:           cfg.Now,
		newID:         cfg.NewID,
		batchMax:      cfg.BatchMax,
		drainInterval: cfg.DrainInterval,
		arrivals:      make(chan *arrival, 4096),
		touched:       map[string]time.Time{},
		pw:            defaultPasswordParams,
		jobs: jobQueue{wake: make(chan struct{}, 1), poll: cfg.JobPoll, backoff: cfg.JobBackoff,
			maxAttempts: cfg.JobMaxAttempts},
		outbound: map[sb.ChannelKind]Outbound{},
	}
	if s.jobs.poll <= 0 {
		s.jobs.poll = defaultJobPoll
	}
	if s.jobs.backoff <= 0 {
		s.jobs.backoff = defaultJobBackoff
	}
	if s.jobs.maxAttempts <= 0 {
		s.jobs.maxAttempts = defaultJobMaxAttempts
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if s.batchMax <= 0 {
		s.batchMax = 128
	}
	if s.drainInterval <= 0 {
		s.drainInterval = 30 * time.Second
	}
	if cfg.PasswordParams != nil {
		s.pw = *cfg.PasswordParams
	}
	s.HandleJobs(JobReplyTimer, s.fireReplyTimer)
	if s.store != nil {
		s.store.OnCredentialsChanged(s.tokens.drop)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return s
}

// Start runs the routing batcher, the periodic drain and the job worker
// until Close.
func (s *Service) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.started.Store(true)
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.runBatcher(ctx) }()
	go func() { defer s.wg.Done(); s.runDrainTicker(ctx) }()
	go func() { defer s.wg.Done(); s.runJobs(ctx) }()
	s.wg.Go(func() { s.runWebhookFeed(ctx) }) // R-X8
}

// Close stops the background work, failing arrivals still queued with
// Unavailable, and waits for it to end.
func (s *Service) Close() {
	s.started.Store(false) // new deliveries are refused from here on
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Store returns the service's store, for edges that need Subscribe.
func (s *Service) Store() sb.Store { return s.store }

// Now returns the service's clock reading in UTC, to the microsecond: the
// precision stores keep, so that what a write returns equals what a later
// read returns.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// intn draws from the shared random source under its lock.
func (s *Service) intn(n int) int {
	s.rndMu.Lock()
	defer s.rndMu.Unlock()
	return s.rnd.IntN(n)
}

// lockedRand adapts the service's source for routing.Rand.
type lockedRand struct{ s *Service }

func (r lockedRand) IntN(n int) int { return r.s.intn(n) }
