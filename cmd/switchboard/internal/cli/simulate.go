package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
	"github.com/switchboard-dev/switchboard/simulate"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// SimConfig holds the flags of `switchboard simulate` (R-X6).
type SimConfig struct {
	Account         string
	Channel         string
	RuleFile        string
	CompareRuleFile string
	CompareChannel  string
	From, To        string
	Arrivals        string
	Poisson         float64
	Hours           float64
	HandleMean      time.Duration
	HandleDist      string
	Agents          string
	CompareAgents   string
	Seed            uint64
	Format          string
	Out             string
}

func (c *Config) simulateFlags(fs *flag.FlagSet) {
	s := &c.Sim
	fs.StringVar(&c.DB, "db", "", "database to read the channel, the roster and recorded arrivals from (sqlite:PATH or postgres://…); not needed with --rule-file, --agents and --arrivals or --poisson")
	fs.StringVar(&s.Account, "account", "", "account id in --db (default: the database's only account)")
	fs.StringVar(&s.Channel, "channel", "", "saved channel in --db whose rule is A (and whose recorded conversations are the arrivals with --from/--to)")
	fs.StringVar(&s.RuleFile, "rule-file", "", `rule A as JSON: a saved channel (GET /api/v1/channels/{id}) or {"name","kind","routing"}`)
	fs.StringVar(&s.CompareRuleFile, "compare-rule-file", "", "rule B as JSON, compared side by side with A")
	fs.StringVar(&s.CompareChannel, "compare-channel", "", "saved channel in --db whose rule is B")
	fs.StringVar(&s.From, "from", "", "start: of the recorded range (with --channel), or of the Poisson stream (RFC 3339, e.g. 2026-03-02T00:00:00Z)")
	fs.StringVar(&s.To, "to", "", "end of the recorded range or of the Poisson stream (RFC 3339)")
	fs.StringVar(&s.Arrivals, "arrivals", "", "arrivals file: JSON Lines or CSV (columns at, contact, owner, known, handle_seconds, open, id)")
	fs.Float64Var(&s.Poisson, "poisson", 0, "synthetic Poisson arrivals at this rate per hour")
	fs.Float64Var(&s.Hours, "hours", 24, "length of the Poisson stream in hours, when --to is not given")
	fs.DurationVar(&s.HandleMean, "handle-mean", 10*time.Minute, "mean handling time of Poisson arrivals")
	fs.StringVar(&s.HandleDist, "handle-dist", simulate.Exponential, "handling-time distribution of Poisson arrivals: exponential or lognormal")
	fs.StringVar(&s.Agents, "agents", "", "roster file (JSON: users, teams, optional inboxes and weights); default: the account's users and teams in --db")
	fs.StringVar(&s.CompareAgents, "compare-agents", "", "roster file for run B (default: the same roster as A); alone, it compares rule A on two rosters")
	fs.Uint64Var(&s.Seed, "seed", 1, "seed of the random picks (email and form rules) and of Poisson arrivals: the same seed gives the same result")
	fs.StringVar(&s.Format, "format", "table", "output: table, json or html (a self-contained report with charts)")
	fs.StringVar(&s.Out, "out", "", "write the output to this file instead of standard output")
}

// simulate is `switchboard simulate`: a dry run of one rule, or two side
// by side, that changes nothing (R-X6).
func (m *Main) simulate(ctx context.Context, cfg *Config) error {
	s := &cfg.Sim
	in, err := s.input()
	if err != nil {
		return err
	}
	var out *simulate.Comparison
	if s.needsDB() {
		if cfg.DB == "" {
			return usagef("--db is required with --channel, --compare-channel, recorded arrivals (--from/--to without --poisson) or the account's roster (no --agents)")
		}
		out, err = simulateInDB(ctx, cfg.DB, s.Account, in)
	} else {
		out, err = simulateOffline(in)
	}
	if err != nil {
		var e *sb.Error
		if errors.As(err, &e) && e.Kind == sb.Invalid {
			return usagef("%s", describe(err))
		}
		return errors.New(describe(err))
	}
	w := m.Stdout
	if s.Out != "" {
		f, err := os.Create(s.Out)
		if err != nil {
			return fmt.Errorf("cannot write the report: %v", err)
		}
		defer f.Close()
		w = f
	}
	if err := write(w, out, s.Format); err != nil {
		return fmt.Errorf("cannot write the report: %v", err)
	}
	if s.Out != "" {
		fmt.Fprintf(m.Stderr, "switchboard simulate: %d arrivals replayed; report written to %s\n", out.A.Arrivals, s.Out)
	}
	return nil
}

func write(w io.Writer, c *simulate.Comparison, format string) error {
	switch format {
	case "json":
		return c.WriteJSON(w)
	case "html":
		return c.WriteHTML(w)
	}
	return c.WriteTable(w)
}

// needsDB reports whether something comes from the database.
func (s *SimConfig) needsDB() bool {
	recorded := s.Arrivals == "" && s.Poisson == 0
	return s.Channel != "" || s.CompareChannel != "" || s.Agents == "" || recorded
}

// input turns the flags into a dry run, reading the files.
func (s *SimConfig) input() (app.SimulateInput, error) {
	var in app.SimulateInput
	switch s.Format {
	case "table", "json", "html":
	default:
		return in, usagef("--format %q: use table, json or html", s.Format)
	}
	if (s.Channel == "") == (s.RuleFile == "") {
		return in, usagef("give rule A with exactly one of --channel or --rule-file")
	}
	if s.CompareChannel != "" && s.CompareRuleFile != "" {
		return in, usagef("give rule B with at most one of --compare-channel or --compare-rule-file")
	}
	var err error
	if in.Rule, err = simRule(s.Channel, s.RuleFile); err != nil {
		return in, err
	}
	if s.CompareChannel != "" || s.CompareRuleFile != "" {
		if in.CompareRule, err = simRule(s.CompareChannel, s.CompareRuleFile); err != nil {
			return in, err
		}
	}
	if in.Roster, err = readRoster("--agents", s.Agents); err != nil {
		return in, err
	}
	if in.CompareRoster, err = readRoster("--compare-agents", s.CompareAgents); err != nil {
		return in, err
	}
	from, to, err := s.times()
	if err != nil {
		return in, err
	}
	in.Seed = s.Seed
	switch n := btoi(s.Arrivals != "") + btoi(s.Poisson != 0); {
	case n > 1:
		return in, usagef("give at most one of --arrivals or --poisson")
	case s.Arrivals != "":
		f, err := os.Open(s.Arrivals)
		if err != nil {
			return in, usagef("--arrivals: %v", err)
		}
		defer f.Close()
		list, err := simulate.ReadArrivals(f)
		if err != nil {
			return in, usagef("--arrivals %s: %s", s.Arrivals, describe(err))
		}
		in.Arrivals.List = list
	case s.Poisson != 0:
		if from.IsZero() {
			from = time.Now().UTC().Truncate(time.Hour)
		}
		hours := s.Hours
		if !to.IsZero() {
			hours = to.Sub(from).Hours()
		}
		in.Arrivals.Poisson = &simulate.Poisson{From: from, Hours: hours, RatePerHour: s.Poisson, HandleMean: s.HandleMean, Distribution: s.HandleDist, Seed: s.Seed}
	default:
		if from.IsZero() || to.IsZero() {
			return in, usagef("give the arrivals: --from and --to (recorded conversations of --channel), --arrivals FILE or --poisson RATE")
		}
		in.Arrivals.Recorded = &app.SimRecorded{From: from, To: to}
	}
	return in, nil
}

// readRoster reads a roster file; none for an empty name.
func readRoster(flagName, file string) (*simulate.Roster, error) {
	if file == "" {
		return nil, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, usagef("%s: %v", flagName, err)
	}
	defer f.Close()
	ro, err := simulate.ReadRoster(f)
	if err != nil {
		return nil, usagef("%s %s: %s", flagName, file, describe(err))
	}
	return ro, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *SimConfig) times() (from, to time.Time, err error) {
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", s.From, &from}, {"--to", s.To, &to}} {
		if t.v == "" {
			continue
		}
		if *t.dst, err = time.Parse(time.RFC3339, t.v); err != nil {
			return from, to, usagef("%s %q: use RFC 3339 such as 2026-03-02T00:00:00Z", t.flag, t.v)
		}
	}
	return from, to, nil
}

func simRule(channel, file string) (*app.SimRule, error) {
	if channel != "" {
		return &app.SimRule{ChannelID: channel}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, usagef("rule file: %v", err)
	}
	defer f.Close()
	r, err := simulate.ReadRule(f)
	if err != nil {
		return nil, usagef("rule file %s: %s", file, describe(err))
	}
	name := r.Name
	if name == "" {
		name = strings.TrimSuffix(file[strings.LastIndexAny(file, `/\`)+1:], ".json")
	}
	return &app.SimRule{Name: name, Kind: r.Kind, Routing: &r.Routing, InboxID: r.InboxID}, nil
}

// simulateOffline runs without a database: rules, roster and arrivals all
// come from the command line.
func simulateOffline(in app.SimulateInput) (*simulate.Comparison, error) {
	var arrivals []simulate.Arrival
	opt := simulate.Options{Seed: in.Seed}
	if p := in.Arrivals.Poisson; p != nil {
		opt.From, opt.To = p.Period()
		var err error
		if arrivals, err = p.Arrivals(); err != nil {
			return nil, err
		}
	} else {
		arrivals = in.Arrivals.List
	}
	compare, roster := in.CompareRule, in.CompareRoster
	if compare == nil && roster != nil {
		compare = in.Rule
	}
	if roster == nil {
		roster = in.Roster
	}
	var out simulate.Comparison
	for i, r := range []*app.SimRule{in.Rule, compare} {
		if r == nil {
			continue
		}
		ro := in.Roster
		if i == 1 {
			ro = roster
		}
		rule := &simulate.Rule{Name: r.Name, Kind: r.Kind, Routing: *r.Routing, InboxID: r.InboxID}
		rep, err := simulate.Run(rule, ro, arrivals, opt)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			out.A = rep
		} else {
			out.B = rep
		}
	}
	return &out, nil
}

// simulateInDB opens the database (as serve does) and runs the dry run in
// one read-only transaction of the account.
func simulateInDB(ctx context.Context, dsn, accountID string, in app.SimulateInput) (*simulate.Comparison, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no database at %s: %v", path, err)
		}
	}
	st, err := sqlstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if accountID == "" {
		if accountID, err = onlyAccount(ctx, st); err != nil {
			return nil, err
		}
	}
	svc := app.New(app.Config{Store: st, Seed: in.Seed})
	return svc.SimulateAccount(ctx, accountID, in)
}

func onlyAccount(ctx context.Context, st sb.Store) (string, error) {
	var as []*sb.Account
	if err := st.View(ctx, func(tx sb.Tx) error {
		var err error
		as, err = tx.Accounts(ctx)
		return err
	}); err != nil {
		return "", err
	}
	switch len(as) {
	case 0:
		return "", errors.New("the database has no account yet")
	case 1:
		return as[0].ID, nil
	}
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	return "", usagef("the database has %d accounts; choose one with --account (%s)", len(as), strings.Join(ids, ", "))
}
