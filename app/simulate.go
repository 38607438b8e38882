package app

import (
	"context"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/simulate"
)

// maxSimArrivals bounds one dry run's arrivals (R-X6), whatever their source.
const maxSimArrivals = 500_000

// SimulateInput is a dry run (R-X6): one rule, or two to compare, a roster
// (nil: the account's users and teams as they are now) and the arrivals.
// Run B, when there is one, uses CompareRule (default: Rule) with
// CompareRoster (default: Roster), so that a run answers "what if we
// change the rule" as well as "what if we add Bob to team B".
type SimulateInput struct {
	Rule          *SimRule         `json:"rule"`
	CompareRule   *SimRule         `json:"compare_rule,omitempty"`
	Roster        *simulate.Roster `json:"roster,omitempty"`
	CompareRoster *simulate.Roster `json:"compare_roster,omitempty"`
	Arrivals      SimArrivals      `json:"arrivals"`
	// Seed seeds the random picks of email and form rules; 0 is a seed
	// like any other, so that a run can be repeated.
	Seed uint64 `json:"seed,omitempty"`
}

// SimRule is a saved channel's rule (ChannelID) or a proposed one. A
// proposed rule B without an inbox is run on rule A's inbox, so that both
// see the same access (R-I4).
type SimRule struct {
	ChannelID string          `json:"channel_id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Kind      sb.ChannelKind  `json:"kind,omitempty"`
	Routing   *sb.RoutingRule `json:"routing,omitempty"`
	InboxID   string          `json:"inbox_id,omitempty"`
}

// SimArrivals says where the arrivals come from: exactly one of the
// account's recorded conversations of a channel over a time range, a
// synthetic Poisson stream, or a list.
type SimArrivals struct {
	Recorded *SimRecorded       `json:"recorded,omitempty"`
	Poisson  *simulate.Poisson  `json:"poisson,omitempty"`
	List     []simulate.Arrival `json:"list,omitempty"`
}

// SimRecorded selects recorded conversations: those of ChannelID (default:
// the rule's channel) created in [From, To).
type SimRecorded struct {
	ChannelID string    `json:"channel_id,omitempty"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
}

// Simulate runs a dry run (R-X6) in the actor's account. Admins only. It
// only reads (one read-only transaction) and changes nothing. Invalid for
// a bad rule, roster or arrival spec; NotFound for an unknown channel.
func (s *Service) Simulate(ctx context.Context, a Actor, in SimulateInput) (*simulate.Comparison, error) {
	const op = "app.Simulate"
	if err := requireSimulate(op, a); err != nil {
		return nil, err
	}
	c, err := s.SimulateAccount(ctx, a.AccountID, in)
	return c, sb.Wrap(op, err)
}

// SimulateAccount is Simulate without the role check, for the operator's
// command line, which holds the database itself.
func (s *Service) SimulateAccount(ctx context.Context, accountID string, in SimulateInput) (*simulate.Comparison, error) {
	const op = "app.Simulate"
	if in.Rule == nil {
		return nil, sb.Invalidf(op, "rule", "a rule is required: a saved channel's (channel_id) or a proposed one (kind and routing)")
	}
	if err := in.Arrivals.check(op); err != nil {
		return nil, err
	}
	var rules []*simulate.Rule
	var rosters []*simulate.Roster
	var arrivals []simulate.Arrival
	err := s.store.View(ctx, func(tx sb.Tx) error {
		compare := in.CompareRule
		if compare == nil && in.CompareRoster != nil {
			compare = in.Rule
		}
		for _, r := range []*SimRule{in.Rule, compare} {
			if r == nil {
				continue
			}
			rule, err := r.resolve(ctx, tx, op, accountID)
			if err != nil {
				return err
			}
			rules = append(rules, rule)
		}
		if len(rules) == 2 && compare.ChannelID == "" && compare.InboxID == "" {
			rules[1].InboxID = rules[0].InboxID // a proposed B on A's inbox (R-I4)
		}
		for _, ro := range []*simulate.Roster{in.Roster, in.CompareRoster} {
			if ro == nil && len(rosters) > 0 {
				ro = rosters[0]
			}
			if ro == nil {
				var err error
				if ro, err = accountRoster(ctx, tx, accountID); err != nil {
					return err
				}
			}
			rosters = append(rosters, ro)
		}
		var err error
		arrivals, err = in.Arrivals.load(ctx, tx, op, accountID, in.Rule.ChannelID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(arrivals) > maxSimArrivals {
		return nil, sb.Invalidf(op, "arrivals", "%d arrivals; a dry run takes at most %d", len(arrivals), maxSimArrivals)
	}
	opt := in.Arrivals.options(in.Seed)
	var out simulate.Comparison
	for i, rule := range rules {
		rep, err := simulate.Run(rule, rosters[i], arrivals, opt)
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

// resolve turns the input into the rule to run.
func (r *SimRule) resolve(ctx context.Context, tx sb.Tx, op, accountID string) (*simulate.Rule, error) {
	if r.ChannelID != "" {
		ch, err := tx.Channel(ctx, accountID, r.ChannelID)
		if sb.IsKind(err, sb.NotFound) {
			return nil, sb.E(op, sb.NotFound, "channel_not_found", "no channel %q in this account", r.ChannelID)
		}
		if err != nil {
			return nil, err
		}
		rule := &simulate.Rule{ID: ch.ID, Name: ch.Name, InboxID: ch.InboxID, Kind: ch.Kind, Routing: ch.Routing}
		if r.Name != "" {
			rule.Name = r.Name
		}
		if r.Routing != nil { // the channel with a proposed rule
			rule.Routing = *r.Routing
		}
		return rule, nil
	}
	if r.Routing == nil {
		return nil, sb.Invalidf(op, "rule", "give channel_id, or kind and routing")
	}
	rule := &simulate.Rule{Name: r.Name, Kind: r.Kind, Routing: *r.Routing, InboxID: r.InboxID}
	if rule.Name == "" {
		rule.Name = "proposed"
	}
	return rule, rule.Validate()
}

// accountRoster is the account's users, teams, inboxes and weights now.
func accountRoster(ctx context.Context, tx sb.Tx, accountID string) (*simulate.Roster, error) {
	rows, err := loadRows(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	return simulate.RosterFrom(rows.users, rows.teams, rows.inboxes, rows.weights), nil
}

func (in *SimArrivals) check(op string) error {
	n := 0
	for _, set := range []bool{in.Recorded != nil, in.Poisson != nil, in.List != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return sb.Invalidf(op, "arrivals", "give exactly one of recorded, poisson or list")
	}
	if p := in.Poisson; p != nil && p.RatePerHour*(p.Hours+p.Duration.Hours()) > maxSimArrivals {
		return sb.Invalidf(op, "arrivals", "about %.0f arrivals expected; a dry run takes at most %d", p.RatePerHour*(p.Hours+p.Duration.Hours()), maxSimArrivals)
	}
	if r := in.Recorded; r != nil && (r.From.IsZero() || r.To.IsZero() || !r.From.Before(r.To)) {
		return sb.Invalidf(op, "arrivals", "recorded arrivals need from and to, from before to")
	}
	return nil
}

// load reads or draws the arrivals.
func (in *SimArrivals) load(ctx context.Context, tx sb.Tx, op, accountID, ruleChannel string) ([]simulate.Arrival, error) {
	switch {
	case in.Poisson != nil:
		return in.Poisson.Arrivals()
	case in.List != nil:
		return in.List, nil
	}
	r := in.Recorded
	ch := r.ChannelID
	if ch == "" {
		ch = ruleChannel
	}
	if ch == "" {
		return nil, sb.Invalidf(op, "arrivals", "recorded arrivals need a channel_id (the rule is not a saved channel's)")
	}
	if _, err := tx.Channel(ctx, accountID, ch); sb.IsKind(err, sb.NotFound) {
		return nil, sb.E(op, sb.NotFound, "channel_not_found", "no channel %q in this account", ch)
	} else if err != nil {
		return nil, err
	}
	rs, err := tx.RecordedConversations(ctx, accountID, ch, r.From, r.To)
	if err != nil {
		return nil, err
	}
	return simulate.FromRecorded(rs), nil
}

// options bound the reported period by the arrivals' own range, if any.
func (in *SimArrivals) options(seed uint64) simulate.Options {
	opt := simulate.Options{Seed: seed}
	switch {
	case in.Recorded != nil:
		opt.From, opt.To = in.Recorded.From, in.Recorded.To
	case in.Poisson != nil:
		opt.From, opt.To = in.Poisson.Period()
	}
	return opt
}
