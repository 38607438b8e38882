package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	sb "github.com/switchboard-dev/switchboard"
)

// setupConcurrency is how many set-up requests are in flight at once.
const setupConcurrency = 8

// The request bodies Run sends; field names as in the API.
type (
	setupInput struct {
		AccountName string `json:"account_name"`
		TimeZone    string `json:"time_zone"`
		AdminEmail  string `json:"admin_email"`
		AdminName   string `json:"admin_name"`
		Password    string `json:"password"`
	}
	loginInput struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	userInput struct {
		Email        string `json:"email"`
		Name         string `json:"name"`
		Role         string `json:"role"`
		PaidSeat     bool   `json:"paid_seat"`
		ChatCapacity int    `json:"chat_capacity"`
		Password     string `json:"password"`
	}
	statusInput struct {
		Status string `json:"status"`
	}
	paidSeatPatch struct {
		PaidSeat bool `json:"paid_seat"`
	}
	teamInput struct {
		Name           string   `json:"name"`
		MainMemberIDs  []string `json:"main_member_ids"`
		ExtraMemberIDs []string `json:"extra_member_ids"`
	}
	inboxInput struct {
		Name    string   `json:"name"`
		TeamIDs []string `json:"team_ids"`
	}
	routingInput struct {
		Enabled bool     `json:"enabled"`
		Mode    string   `json:"mode"`
		TeamIDs []string `json:"team_ids"`
	}
	channelInput struct {
		Kind    string          `json:"kind"`
		Name    string          `json:"name"`
		Config  json.RawMessage `json:"config,omitempty"`
		Routing routingInput    `json:"routing"`
	}
)

// user is the part of a user the load tool reads.
type user struct {
	ID       string `json:"id"`
	PaidSeat bool   `json:"paid_seat"`
}

// created is the part of a created team, inbox or channel it reads.
type created struct {
	ID string `json:"id"`
}

// setUp gets an admin token and creates the agents, their team, an inbox and
// a routed channel.
func (r *runner) setUp(ctx context.Context) error {
	admin, err := r.adminToken(ctx)
	if err != nil {
		return err
	}
	if !admin.PaidSeat {
		// Only a user with a paid seat may switch routing on (R-A2).
		fmt.Fprintf(r.cfg.Out, "giving the admin %s a paid seat to switch routing on\n", admin.ID)
		if _, err := r.api.do(ctx, http.MethodPatch, "/api/v1/users/"+url.PathEscape(admin.ID), paidSeatPatch{PaidSeat: true}, nil); err != nil {
			return fmt.Errorf("loadtest: giving the admin a paid seat: %w", err)
		}
	}
	if r.agents, err = r.createAgents(ctx); err != nil {
		return err
	}

	name := "Load test " + r.runID
	var team, inbox, channel created
	if _, err := r.api.do(ctx, http.MethodPost, "/api/v1/teams",
		teamInput{Name: name, MainMemberIDs: r.agents, ExtraMemberIDs: []string{}}, &team); err != nil {
		return fmt.Errorf("loadtest: creating the team: %w", err)
	}
	// The whole account may use the inbox (R-I4): the admin needs edit
	// access to it to connect the channel (R-I3), and routing still only
	// reaches the team.
	if _, err := r.api.do(ctx, http.MethodPost, "/api/v1/inboxes",
		inboxInput{Name: name, TeamIDs: []string{}}, &inbox); err != nil {
		return fmt.Errorf("loadtest: creating the inbox: %w", err)
	}
	in := channelInput{
		Kind:    string(r.cfg.Kind),
		Name:    name,
		Routing: routingInput{Enabled: true, Mode: "specific", TeamIDs: []string{team.ID}},
	}
	if r.cfg.Kind == sb.KindEmail {
		r.channelAddr = "load-" + r.runID + "@example.test"
		in.Config, _ = json.Marshal(map[string]string{"address": r.channelAddr})
	}
	if _, err := r.api.do(ctx, http.MethodPost, "/api/v1/inboxes/"+url.PathEscape(inbox.ID)+"/channels", in, &channel); err != nil {
		return fmt.Errorf("loadtest: creating the channel: %w", err)
	}
	r.teamID, r.inboxID, r.channelID = team.ID, inbox.ID, channel.ID
	return nil
}

// adminToken sets up the first account, or logs in when the server already
// has one (setup answers 409), and keeps the admin's token for later
// requests. It returns the admin.
func (r *runner) adminToken(ctx context.Context) (*user, error) {
	var res struct {
		Token string `json:"token"`
		User  *user  `json:"user"`
	}
	_, err := r.api.do(ctx, http.MethodPost, "/api/v1/setup", setupInput{
		AccountName: "Load test",
		TimeZone:    "UTC",
		AdminEmail:  r.cfg.AdminEmail,
		AdminName:   "Load test admin",
		Password:    r.cfg.AdminPassword,
	}, &res)
	if statusOf(err) == http.StatusConflict {
		_, err = r.api.do(ctx, http.MethodPost, "/api/v1/tokens",
			loginInput{Email: r.cfg.AdminEmail, Password: r.cfg.AdminPassword}, &res)
	}
	if err != nil {
		return nil, fmt.Errorf("loadtest: getting an admin token: %w", err)
	}
	if res.Token == "" || res.User == nil || res.User.ID == "" {
		return nil, fmt.Errorf("loadtest: getting an admin token: the answer has no token or user")
	}
	r.api.token = res.Token
	return res.User, nil
}

// createAgents creates cfg.Agents available agents with setupConcurrency
// requests at a time and returns their ids in creation order.
func (r *runner) createAgents(ctx context.Context) ([]string, error) {
	ids := make([]string, r.cfg.Agents)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	work := make(chan int)
	var wg sync.WaitGroup
	for range min(setupConcurrency, r.cfg.Agents) {
		wg.Go(func() {
			for i := range work {
				id, err := r.createAgent(ctx, i)
				if err != nil {
					cancel(err)
					continue
				}
				ids[i] = id
			}
		})
	}
feed:
	for i := range r.cfg.Agents {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return ids, nil
}

// createAgent creates agent number i, logs in as them and sets them
// available: only users themselves may come back from away (R-V1).
func (r *runner) createAgent(ctx context.Context, i int) (string, error) {
	in := userInput{
		Email:        fmt.Sprintf("agent-%s-%d@example.test", r.runID, i),
		Name:         fmt.Sprintf("Load agent %d", i),
		Role:         "agent",
		PaidSeat:     true,
		ChatCapacity: 0,
		Password:     "load-" + r.runID,
	}
	var u user
	if _, err := r.api.do(ctx, http.MethodPost, "/api/v1/users", in, &u); err != nil {
		return "", fmt.Errorf("loadtest: creating agent %d: %w", i, err)
	}
	var login struct {
		Token string `json:"token"`
	}
	if _, err := r.api.do(ctx, http.MethodPost, "/api/v1/tokens",
		loginInput{Email: in.Email, Password: in.Password}, &login); err != nil {
		return "", fmt.Errorf("loadtest: logging in as agent %d: %w", i, err)
	}
	if _, err := r.api.as(login.Token).do(ctx, http.MethodPut, "/api/v1/users/"+url.PathEscape(u.ID)+"/status",
		statusInput{Status: "available"}, nil); err != nil {
		return "", fmt.Errorf("loadtest: setting agent %d available: %w", i, err)
	}
	return u.ID, nil
}
