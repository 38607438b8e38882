package main_test

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
)

// The API's shapes, as far as these tests read them.
type (
	conversation struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		AssigneeID string `json:"assignee_id"`
		TeamID     string `json:"team_id"`
		ChannelID  string `json:"channel_id"`
		ContactID  string `json:"contact_id"`
		Waiting    bool   `json:"waiting"`
	}
	inboundResult struct {
		Conversation conversation `json:"conversation"`
		Duplicate    bool         `json:"duplicate"`
	}
	candidate struct {
		UserID  string `json:"user_id"`
		Via     string `json:"via"`
		Dropped string `json:"dropped"`
	}
	decision struct {
		Trigger    string      `json:"trigger"`
		Mode       string      `json:"mode"`
		Strategy   string      `json:"strategy"`
		Outcome    string      `json:"outcome"`
		AssigneeID string      `json:"assignee_id"`
		Reason     string      `json:"reason"`
		Candidates []candidate `json:"candidates"`
	}
	user struct {
		ID           string `json:"id"`
		Email        string `json:"email"`
		ChatCapacity int    `json:"chat_capacity"`
		OpenChats    int    `json:"open_chats"`
	}
	page[T any] struct {
		Items      []T    `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	idOnly struct {
		ID string `json:"id"`
	}
	tokenOnly struct {
		Token string `json:"token"`
	}
)

const (
	adminEmail    = "admin@e2e.test"
	adminPassword = "e2e-password"
)

// fixture is a fresh account with agents in one team and one channel
// that routes to the team.
type fixture struct {
	admin   *client
	agents  []string
	team    string
	channel string
}

// setUpRouting runs POST /api/v1/setup on base, creates n seated agents
// with the given chat capacity (0 = no limit) in one team, and a channel
// of kind whose rule is "specific: the team".
func setUpRouting(t *testing.T, base string, n, capacity int, kind string) *fixture {
	t.Helper()
	var setup tokenOnly
	newClient(base, "").must(t, "POST", "/api/v1/setup", map[string]any{
		"account_name": "E2E", "time_zone": "UTC", "admin_email": adminEmail, "admin_name": "Admin", "password": adminPassword,
	}, &setup)
	f := &fixture{admin: newClient(base, setup.Token)}
	for i := range n {
		var u idOnly
		f.admin.must(t, "POST", "/api/v1/users", map[string]any{
			"email": fmt.Sprintf("agent%d@e2e.test", i+1), "name": fmt.Sprintf("Agent %d", i+1), "role": "agent",
			"paid_seat": true, "chat_capacity": capacity, "password": "agent-password",
		}, &u)
		f.agents = append(f.agents, u.ID)
	}
	var team, inbox, ch idOnly
	f.admin.must(t, "POST", "/api/v1/teams", map[string]any{"name": "Agents", "main_member_ids": f.agents}, &team)
	f.team = team.ID
	f.admin.must(t, "POST", "/api/v1/inboxes", map[string]any{"name": "E2E", "team_ids": []string{}}, &inbox)
	f.admin.must(t, "POST", "/api/v1/inboxes/"+inbox.ID+"/channels", map[string]any{
		"kind": kind, "name": "E2E " + kind,
		"routing": map[string]any{"enabled": true, "mode": "specific", "team_ids": []string{team.ID}},
	}, &ch)
	f.channel = ch.ID
	return f
}

// inboundBody is an inbound message from contact i of a run.
func inboundBody(run string, i int) map[string]any {
	return map[string]any{
		"contact":     map[string]any{"email": fmt.Sprintf("%s-%d@example.com", run, i), "name": fmt.Sprintf("Contact %d", i)},
		"body":        fmt.Sprintf("message %d of %s", i, run),
		"external_id": fmt.Sprintf("%s-%d", run, i),
	}
}

// fireInbound sends n inbound messages from n distinct contacts at once,
// message i through clients[i % len(clients)], and returns every result
// (nil where the request failed) and the errors.
func fireInbound(clients []*client, channel, run string, n int) ([]*inboundResult, []error) {
	results := make([]*inboundResult, n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var res inboundResult
			c := clients[i%len(clients)]
			if _, err := c.call("POST", "/api/v1/channels/"+channel+"/inbound", inboundBody(run, i), &res); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("inbound %d: %w", i, err))
				mu.Unlock()
				return
			}
			results[i] = &res
		}()
	}
	close(start)
	wg.Wait()
	return results, errs
}

// listConversations pages through a view of the conversation list.
func listConversations(t *testing.T, c *client, view string) []conversation {
	t.Helper()
	var all []conversation
	cursor := ""
	for {
		q := url.Values{"view": {view}, "limit": {"200"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p page[conversation]
		c.must(t, "GET", "/api/v1/conversations?"+q.Encode(), nil, &p)
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		cursor = p.NextCursor
	}
}

// loads counts open conversations per assignee from the API's list.
func loads(t *testing.T, c *client) (perAgent map[string]int, unassigned []conversation) {
	t.Helper()
	perAgent = map[string]int{}
	for _, conv := range listConversations(t, c, "open") {
		if conv.AssigneeID == "" {
			unassigned = append(unassigned, conv)
			continue
		}
		perAgent[conv.AssigneeID]++
	}
	return perAgent, unassigned
}

// checkBalanced asserts R-A9: every agent got work and loads differ by at
// most one.
func checkBalanced(t *testing.T, perAgent map[string]int, agents []string, total int) {
	t.Helper()
	lo, hi, sum := total+1, -1, 0
	for _, id := range agents {
		n := perAgent[id]
		lo, hi, sum = min(lo, n), max(hi, n), sum+n
	}
	if sum != total {
		t.Errorf("the agents hold %d conversations, want %d (per agent: %v)", sum, total, perAgent)
	}
	if hi-lo > 1 {
		t.Errorf("least busy routing is unbalanced: loads range from %d to %d, want a spread of at most 1 (per agent: %v)", lo, hi, perAgent)
	}
}
