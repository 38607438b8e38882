// Package loadtest drives a running Switchboard server through its HTTP API
// the way integrators do, and reports latency, throughput and whether
// routing stayed fair.
//
// Run sets up a fresh team of agents behind a routed channel, posts inbound
// messages from many distinct contacts at once, then reads back the
// conversations to count how evenly they were assigned. It only ever talks
// to Config.BaseURL and uses nothing but the standard library.
package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Defaults of Config's zero fields.
const (
	DefaultAgents   = 200
	DefaultClients  = 16
	DefaultRequests = 20000
	DefaultKind     = sb.KindChat
)

// progressEvery is how often Run prints the rate so far.
const progressEvery = 2 * time.Second

// Config says what to load and how hard.
type Config struct {
	// BaseURL is the server, such as http://127.0.0.1:8080. Every request
	// goes there and nowhere else.
	BaseURL string
	// AdminEmail and AdminPassword set up the server's first account, or log
	// in to it when the server already has one.
	AdminEmail, AdminPassword string
	// Agents is how many agents to create (default 200): paid seats, no chat
	// capacity limit, all available, all main members of one team.
	Agents int
	// Clients is how many requests are in flight at once (default 16).
	Clients int
	// Requests is how many inbound messages to post (default 20000).
	Requests int
	// Duration, if positive, stops posting after this long even if fewer
	// than Requests were sent.
	Duration time.Duration
	// Kind is the kind of the channel the messages come in on (default chat).
	Kind sb.ChannelKind
	// SMTPAddr, if set, sends the inbound messages as email to this SMTP
	// listener (host:port) instead of the HTTP inbound endpoint; Kind is
	// then email.
	SMTPAddr string
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// withDefaults returns c with its zero fields defaulted, or an error for a
// config that cannot run.
func (c Config) withDefaults() (Config, *url.URL, error) {
	if c.Agents == 0 {
		c.Agents = DefaultAgents
	}
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Requests == 0 {
		c.Requests = DefaultRequests
	}
	if c.Kind == "" {
		c.Kind = DefaultKind
	}
	if c.SMTPAddr != "" {
		c.Kind = sb.KindEmail
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	switch {
	case c.Agents < 0 || c.Clients < 0 || c.Requests < 0 || c.Duration < 0:
		return c, nil, errors.New("loadtest: Agents, Clients, Requests and Duration must not be negative")
	case !c.Kind.Valid():
		return c, nil, fmt.Errorf("loadtest: unknown channel kind %q", c.Kind)
	case c.AdminEmail == "" || c.AdminPassword == "":
		return c, nil, errors.New("loadtest: AdminEmail and AdminPassword are required")
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" {
		return c, nil, fmt.Errorf("loadtest: BaseURL %q is not an http(s) server URL", c.BaseURL)
	}
	return c, base, nil
}

// Run sets up the agents, team, inbox and channel, posts cfg.Requests inbound
// messages from cfg.Clients concurrent workers (stopping early at
// cfg.Duration or when ctx ends), then lists the conversations it created
// and counts how they were assigned.
//
// Setting up creates, with the admin's token: each agent (then logs in as
// them to set them available, which only users may do for themselves), one
// team with all of them as main members, an inbox open to the whole account
// and a channel of cfg.Kind routed to the team ("specific" mode, least busy
// for chat-like kinds). If the admin has no paid seat it gives them one, as
// only seated users may switch routing on (R-A2).
//
// Failed inbound requests are counted in the report, not returned. Run
// returns an error when the config is unusable, when setting up or reading
// back fails, or when ctx ends; with ctx's error it also returns the report
// of what was done so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, base, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{
		cfg:   cfg,
		runID: newRunID(),
		api:   newClient(base, 2*cfg.Clients+8),
	}
	defer r.api.close()

	start := time.Now()
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(r.cfg.Out, "setup done in %s: run %s, %d agents, team %s, inbox %s, %s channel %s\n",
		time.Since(start).Round(time.Millisecond), r.runID, len(r.agents), r.teamID, r.inboxID, cfg.Kind, r.channelID)

	rep := r.load(ctx)
	fmt.Fprintf(r.cfg.Out, "load done: %d requests, %d errors in %s (%.1f req/s)\n",
		rep.Requests, rep.Errors, rep.Elapsed.Round(time.Millisecond), rep.Throughput)
	if err := ctx.Err(); err != nil {
		return rep, err
	}

	if err := r.verify(ctx, rep); err != nil {
		return rep, err
	}
	fmt.Fprintf(r.cfg.Out, "check done: %d conversations, %d unassigned, spread %d\n",
		rep.Conversations, rep.Unassigned, rep.AssignedSpread)
	return rep, nil
}

// runner holds one run's state.
type runner struct {
	cfg   Config
	runID string
	api   *client

	agents    []string // user ids, in creation order
	teamID    string
	inboxID   string
	channelID string
	// channelAddr is the email channel's address (SMTP runs).
	channelAddr string
}

// newRunID returns a short random id that makes this run's emails, names and
// external ids unique.
func newRunID() string {
	b := make([]byte, 5)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
