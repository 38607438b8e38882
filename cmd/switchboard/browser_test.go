package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchboard-dev/switchboard/httpapi"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds one browser step (a page load, a wait for a live
// update).
const stepTimeout = 20 * time.Second

// TestBrowser drives the web inbox in a real browser against the real
// binary, on SQLite and on PostgreSQL: an admin sets up a team, an inbox, a
// chat channel and its routing rule through the pages; a conversation comes
// in through the API; agents see it appear live; one takes it with Send;
// the Assignee menu offers only allowed users; the away toggle with
// "reassign replies" re-routes the contact's next message.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI=true: %v", err)
		}
		t.Skipf("chromium is not installed at %s; skipping the browser tests", chromiumPath)
	}
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			testBrowserFlow(t, db.name, db.dsn(t))
		})
	}
}

// shots is where screenshots go: $SWITCHBOARD_SCREENSHOTS, or the test's
// temporary directory.
func shots(t *testing.T, db string) string {
	dir := os.Getenv("SWITCHBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, db)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one signed-in person in their own browser context (own cookies).
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
	dir  string
}

// newBrowser starts chromium for the test and returns a function that
// opens a tab in a fresh browser context.
func newBrowser(t *testing.T, base, dir string) func(name string) *tab {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 760),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(browser); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return func(name string) *tab {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 760)); err != nil {
			t.Fatalf("opening a tab for %s: %v", name, err)
		}
		return &tab{t: t, name: name, ctx: ctx, base: base, dir: dir}
	}
}

// do runs steps within stepTimeout, failing the test with what was tried.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// eval returns a JavaScript expression's value.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluating %s: %v", b.name, expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true, evaluating it every
// 50 ms; errors while the page navigates count as "not yet".
func (b *tab) waitJS(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
	b.t.Fatalf("%s: %s: still not true after %s: %s (last error: %v)", b.name, what, stepTimeout, expr, last)
}

// shot saves a screenshot of the page as name.png.
func (b *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
}

// open loads a page of the app.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// signIn signs in through the sign-in page.
func (b *tab) signIn(email, password string) {
	b.t.Helper()
	b.open("/app")
	b.do("sign in",
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SetValue(chromedp.ID("email"), email),
		chromedp.SetValue(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.CSS(".inbox")),
	)
}

// submitAndReload submits an API form and waits for the page to reload.
func (b *tab) submitAndReload(what, button string) {
	b.t.Helper()
	b.do(what+": mark the page", chromedp.Evaluate[chromedp.Void](`window.__before = true`))
	b.do(what, chromedp.Click(chromedp.CSS(button)))
	b.waitJS(what+": page reloaded", `window.__before === undefined && document.readyState === "complete"`)
}

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

func testBrowserFlow(t *testing.T, db, dsn string) {
	start := time.Now()
	srv := startServer(t, "switchboard", dsn)
	dir := shots(t, db)
	admin := newClient(srv.URL, "")
	var setup struct {
		Token string `json:"token"`
		User  struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	admin.must(t, "POST", "/api/v1/setup", map[string]any{"account_name": "Acme", "time_zone": "UTC",
		"admin_email": "admin@acme.test", "admin_name": "Ada Admin", "password": "admin password"}, &setup)
	admin.token = setup.Token
	newUser := func(name string, seat bool) string {
		var u struct {
			ID string `json:"id"`
		}
		admin.must(t, "POST", "/api/v1/users", map[string]any{"email": strings.ToLower(name) + "@acme.test", "name": name,
			"role": "agent", "paid_seat": seat, "password": "password " + name}, &u)
		return u.ID
	}
	ann, bob, cid, dee := newUser("Ann", true), newUser("Bob", true), newUser("Cid", true), newUser("Dee", false)

	browser := newBrowser(t, srv.URL, dir)

	// --- the admin sets up a team, an inbox, a channel and its rule ------
	ad := browser("admin")
	ad.signIn("admin@acme.test", "admin password")
	ad.shot("01-admin-inbox-empty")
	ad.open("/app/settings/teams")
	ad.do("fill the new team",
		chromedp.SetValue(chromedp.ID("nt-name"), "Support"),
		chromedp.Click(chromedp.CSS(`#new-team input[data-json="main_member_ids"][value="`+ann+`"]`)),
		chromedp.Click(chromedp.CSS(`#new-team input[data-json="main_member_ids"][value="`+bob+`"]`)),
		chromedp.Click(chromedp.CSS(`#new-team input[data-json="extra_member_ids"][value="`+setup.User.ID+`"]`)),
	)
	ad.submitAndReload("create the team", `#new-team button[type=submit]`)
	var teams struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	admin.must(t, "GET", "/api/v1/teams", nil, &teams)
	if len(teams.Items) != 1 || teams.Items[0].Name != "Support" {
		t.Fatalf("teams after the form = %+v", teams.Items)
	}
	team := teams.Items[0].ID
	ad.shot("02-admin-team")

	ad.open("/app/settings/inboxes")
	ad.do("fill the new inbox",
		chromedp.SetValue(chromedp.ID("ni-name"), "Help desk"),
		chromedp.Click(chromedp.CSS(`#new-inbox input[data-json="team_ids"][value="`+team+`"]`)),
	)
	ad.submitAndReload("create the inbox", `#new-inbox button[type=submit]`)
	var inboxes struct {
		Items []struct {
			ID      string   `json:"id"`
			TeamIDs []string `json:"team_ids"`
		} `json:"items"`
	}
	admin.must(t, "GET", "/api/v1/inboxes", nil, &inboxes)
	if len(inboxes.Items) != 1 || !slices.Equal(inboxes.Items[0].TeamIDs, []string{team}) {
		t.Fatalf("R-I4: inboxes after the form = %+v, want Help desk limited to Support", inboxes.Items)
	}
	inbox := inboxes.Items[0].ID

	ad.open("/app/settings/channels")
	ad.do("fill the new channel",
		chromedp.SetValue(chromedp.ID("nc-kind"), "chat"),
		chromedp.SetValue(chromedp.ID("nc-name"), "Website chat"),
		chromedp.SetValue(chromedp.ID("nc-inbox"), inbox),
		chromedp.SetValue(chromedp.ID("nc-config"), `{"greeting": "Hi! How can we help?"}`),
		chromedp.Click(chromedp.CSS(`#new-channel button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("channel-form")),
	)
	channel := strings.TrimPrefix(eval[string](ad, `location.pathname`), "/app/settings/channels/")

	// A validation error is shown next to its field, in words.
	ad.do("switch routing on without anyone",
		chromedp.Click(chromedp.ID("rt-enabled")),
		chromedp.SetValue(chromedp.ID("rt-mode"), "specific"),
		chromedp.Click(chromedp.ID("save-channel")),
	)
	ad.waitJS("the error shows next to the users", `document.querySelector('[data-field="routing.user_ids"]').textContent.includes("at least one user")`)
	if !eval[bool](ad, `document.querySelector('[data-field="routing.user_ids"]').closest("fieldset").querySelector("legend").textContent.includes("Users")`) {
		t.Error("the routing error is not beside the Users field")
	}
	ad.shot("03-admin-routing-error")
	// R-A2: the rule editor offers only seated users.
	offered := eval[[]string](ad, `Array.from(document.querySelectorAll('#channel-form input[data-json="routing.user_ids"]')).map(i => i.value)`)
	if !slices.Contains(offered, ann) || !slices.Contains(offered, bob) || slices.Contains(offered, dee) {
		t.Errorf("R-A2: routing offers %v, want Ann and Bob (seated) but never Dee %s (no paid seat)", offered, dee)
	}
	// The rule: Ann and Bob, only available; left off for now, so that new
	// chats wait in Unassigned (R-M1) until it is switched on below.
	ad.do("set the rule",
		chromedp.Click(chromedp.ID("rt-enabled")),
		chromedp.Click(chromedp.CSS(`#channel-form input[data-json="routing.user_ids"][value="`+ann+`"]`)),
		chromedp.Click(chromedp.CSS(`#channel-form input[data-json="routing.user_ids"][value="`+bob+`"]`)),
	)
	ad.submitAndReload("save the rule", "#save-channel")
	var ch struct {
		Routing struct {
			Enabled       bool     `json:"enabled"`
			Mode          string   `json:"mode"`
			UserIDs       []string `json:"user_ids"`
			OnlyAvailable *bool    `json:"only_available"`
		} `json:"routing"`
	}
	admin.must(t, "GET", "/api/v1/channels/"+channel, nil, &ch)
	if ch.Routing.Enabled || ch.Routing.Mode != "specific" || len(ch.Routing.UserIDs) != 2 || ch.Routing.OnlyAvailable == nil || !*ch.Routing.OnlyAvailable {
		t.Fatalf("rule after the form = %+v", ch.Routing)
	}
	ad.do("scroll to the rule", chromedp.Evaluate[chromedp.Void](`document.querySelector('#channel-form h2:nth-of-type(2)').scrollIntoView()`))
	ad.shot("04-admin-channel-rule")

	// Users: capacity and working hours, with an error in words first.
	ad.open("/app/settings/users")
	form := "#user-" + cid
	ad.do("give Cid a bad time zone",
		chromedp.SetValue(chromedp.CSS(form+` input[data-json="chat_capacity"]`), "3"),
		chromedp.Click(chromedp.CSS(form+` input[data-day="1"]`)),
		chromedp.SetValue(chromedp.CSS(form+` input[data-tz]`), "Mars/Olympus"),
		chromedp.Click(chromedp.CSS(form+` button[type=submit]`)),
	)
	ad.waitJS("the error shows next to the working hours", `document.querySelector('`+form+` [data-field="working_hours"]').textContent.includes("Mars/Olympus")`)
	ad.do("fix the time zone", chromedp.SetValue(chromedp.CSS(form+` input[data-tz]`), "Europe/Amsterdam"))
	ad.submitAndReload("save Cid", form+` button[type=submit]`)
	var cidUser struct {
		ChatCapacity int `json:"chat_capacity"`
		WorkingHours struct {
			TimeZone string                          `json:"time_zone"`
			Ranges   []struct{ Day, Start, End int } `json:"ranges"`
		} `json:"working_hours"`
	}
	admin.must(t, "GET", "/api/v1/users/"+cid, nil, &cidUser)
	if cidUser.ChatCapacity != 3 || cidUser.WorkingHours.TimeZone != "Europe/Amsterdam" || len(cidUser.WorkingHours.Ranges) != 1 ||
		cidUser.WorkingHours.Ranges[0].Day != 1 || cidUser.WorkingHours.Ranges[0].Start != 9*60 || cidUser.WorkingHours.Ranges[0].End != 17*60 {
		t.Fatalf("Cid after the users form = %+v, want capacity 3 and Monday 09:00-17:00 in Europe/Amsterdam", cidUser)
	}

	// Rule R-V1: an admin may set someone else away (not available).
	ad.submitAndReload("set Cid away", "#away-"+cid+" button[type=submit]")
	var cidStatus struct {
		Status      string `json:"status"`
		StatusSetBy string `json:"status_set_by"`
	}
	admin.must(t, "GET", "/api/v1/users/"+cid, nil, &cidStatus)
	if cidStatus.Status != "away" || cidStatus.StatusSetBy != setup.User.ID {
		t.Fatalf("R-V1: Cid after Set away = %+v, want away, set by the admin", cidStatus)
	}
	if eval[bool](ad, `document.querySelector('#away-`+cid+`') !== null`) {
		t.Error("the Set away button is still offered for a user who is away")
	}

	// --- agents watch their Unassigned view live ---------------------------
	agentA, agentB, outsider := browser("Ann"), browser("Bob"), browser("Cid")
	for _, a := range []struct {
		tab         *tab
		email, name string
	}{{agentA, "ann@acme.test", "Ann"}, {agentB, "bob@acme.test", "Bob"}, {outsider, "cid@acme.test", "Cid"}} {
		a.tab.signIn(a.email, "password "+a.name)
		a.tab.open("/app?view=unassigned")
		a.tab.waitJS("live stream open", `document.body.dataset.live === "open"`)
	}

	var in struct {
		Conversation struct {
			ID         string `json:"id"`
			AssigneeID string `json:"assignee_id"`
		} `json:"conversation"`
	}
	admin.must(t, "POST", "/api/v1/channels/"+channel+"/inbound", map[string]any{
		"contact": map[string]any{"email": "vera@example.com", "name": "Vera Visitor"}, "body": "Hello, my order #1042 has not arrived.", "external_id": "m1"}, &in)
	conv := in.Conversation.ID
	if in.Conversation.AssigneeID != "" {
		t.Fatalf("R-M1: with the rule off the chat must stay unassigned, got %q", in.Conversation.AssigneeID)
	}
	item := `document.querySelector('#list [data-conv=` + js(conv) + `]')`
	// step runs one part of the story as a subtest named after the rules it
	// proves; the tabs report to it while it runs, and a failed step ends
	// the story (the next steps build on it).
	tabs := []*tab{ad, agentA, agentB, outsider}
	step := func(name string, fn func(t *testing.T)) {
		t.Helper()
		ok := t.Run(name, func(t *testing.T) { bind(t, tabs...); fn(t) })
		bind(t, tabs...)
		if !ok {
			t.FailNow()
		}
	}
	step("R-M1 R-I5 live: the new chat appears in both agents' Unassigned view", func(t *testing.T) {
		agentA.waitJS("the chat appears for Ann", item+` !== null`)
		agentB.waitJS("the chat appears for Bob", item+` !== null`)
		agentB.waitJS("Bob's count", `document.querySelector('#view-unassigned .count').textContent.trim() === "1"`)
		agentB.shot("05-bob-sees-new-chat")
	})
	step("R-I4 live: nobody else sees it", func(t *testing.T) {
		if eval[bool](outsider, item+` !== null`) {
			t.Error("Cid, who has no access to Help desk, sees the chat live")
		}
		outsider.open("/app?view=open")
		if eval[bool](outsider, item+` !== null`) {
			t.Error("Cid sees the chat after a reload")
		}
	})

	step("R-M3 Send assigns it to the sender; R-M5 it leaves the other's Unassigned view", func(t *testing.T) {
		agentA.do("open the chat", chromedp.Click(chromedp.CSS(`#list [data-conv="`+conv+`"] a`)), chromedp.WaitVisible(chromedp.ID("reply-body")))
		agentA.shot("06-ann-opens-chat")
		agentA.do("reply", chromedp.SetValue(chromedp.ID("reply-body"), "Sorry about that, Vera. Let me check."), chromedp.Click(chromedp.ID("send")))
		agentA.waitJS("the reply is in the thread", `document.querySelector('#thread').textContent.includes("Let me check")`)
		agentA.waitJS("Ann is the assignee", `document.querySelector('#assignee-now').textContent.includes("Ann") && document.querySelector('#reply_hint').textContent.trim() === ""`)
		agentB.waitJS("the chat leaves Bob's Unassigned view", item+` === null`)
		agentB.waitJS("Bob's count drops", `document.querySelector('#view-unassigned .count').textContent.trim() === "0"`)
		agentA.shot("07-ann-replied")
		agentB.shot("08-bob-unassigned-empty")
		var c struct {
			AssigneeID string `json:"assignee_id"`
		}
		admin.must(t, "GET", "/api/v1/conversations/"+conv, nil, &c)
		if c.AssigneeID != ann {
			t.Fatalf("R-M3: assignee = %q, want Ann", c.AssigneeID)
		}
	})

	step("R-I4 R-M4 the Assignee menu offers only users with access to the inbox", func(t *testing.T) {
		got := eval[[]string](agentA, `Array.from(document.querySelectorAll('#assignee option')).map(o => o.value)`)
		want := []string{"", "user:" + setup.User.ID, "user:" + ann, "user:" + bob, "team:" + team}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Assignee menu = %v, want %v (Ada the extra member, Ann, Bob, team Support; never Cid %s)", got, want, cid)
		}
	})

	step("R-A12 the routing record in words", func(t *testing.T) {
		agentA.do("open the panel", chromedp.Click(chromedp.CSS("#why-details summary")))
		agentA.waitJS("the R-M3 record", `document.querySelector('#why-details').textContent.includes("replied to it while it was unassigned")`)
	})

	// The admin switches the rule on: new chats go to Ann or Bob.
	ad.open("/app/settings/channels/" + channel)
	ad.do("switch routing on", chromedp.Click(chromedp.ID("rt-enabled")))
	ad.submitAndReload("save", "#save-channel")
	admin.must(t, "GET", "/api/v1/channels/"+channel, nil, &ch)
	if !ch.Routing.Enabled {
		t.Fatal("the rule is still off after the toggle")
	}

	step("R-V1 R-V3 R-X1 away with reassign replies re-routes the contact's next message", func(t *testing.T) {
		agentB.open("/app?view=mine")
		agentB.waitJS("live stream open", `document.body.dataset.live === "open"`)
		agentA.do("open the avatar menu", chromedp.Click(chromedp.CSS("#avatar-menu summary")), chromedp.WaitVisible(chromedp.ID("reassign-toggle")))
		agentA.do("reassign replies on", chromedp.Click(chromedp.ID("reassign-toggle")))
		agentA.do("go away", chromedp.Click(chromedp.ID("available-toggle")))
		agentA.waitJS("the status says away and why", `document.querySelector('#status-now').dataset.status === "away" && document.querySelector('#status-now').textContent.includes("you set it")`)
		agentA.shot("09-ann-away-menu")
		var me struct {
			Status          string `json:"status"`
			ReassignReplies bool   `json:"reassign_replies"`
		}
		newClient(srv.URL, setup.Token).must(t, "GET", "/api/v1/users/"+ann, nil, &me)
		if me.Status != "away" || !me.ReassignReplies {
			t.Fatalf("R-V1: Ann after the toggles = %+v, want away with reassign replies", me)
		}
		var next struct {
			Conversation struct {
				ID         string `json:"id"`
				AssigneeID string `json:"assignee_id"`
			} `json:"conversation"`
		}
		admin.must(t, "POST", "/api/v1/channels/"+channel+"/inbound", map[string]any{
			"contact": map[string]any{"email": "vera@example.com"}, "body": "Any news?", "external_id": "m2"}, &next)
		if next.Conversation.ID != conv || next.Conversation.AssigneeID != bob {
			t.Fatalf("R-V3: the next message went to conversation %s, assignee %q; want %s re-routed to Bob", next.Conversation.ID, next.Conversation.AssigneeID, conv)
		}
		agentB.waitJS("the chat appears in Bob's Assigned to me", item+` !== null`)
		agentB.do("open it", chromedp.Click(chromedp.CSS(`#list [data-conv="`+conv+`"] a`)), chromedp.WaitVisible(chromedp.ID("why-details")))
		agentB.do("open the panel", chromedp.Click(chromedp.CSS("#why-details summary")))
		agentB.waitJS("R-A12: the record says why", `(t => t.includes("reassign replies") && t.includes("Assigned to Bob"))(document.querySelector('#why-details').textContent)`)
		agentB.do("scroll to the panel", chromedp.Evaluate[chromedp.Void](`document.querySelector('main.conv').scrollTop = document.querySelector('#why').offsetTop - 80`))
		agentB.shot("10-bob-why-this-assignment")
	})

	step("close and reopen", func(t *testing.T) {
		agentB.do("close", chromedp.Click(chromedp.ID("close")))
		agentB.waitJS("closed", `document.querySelector('#conv-title .badge.closed') !== null && document.querySelector('#reopen') !== null`)
		agentB.waitJS("R-M5: it leaves Assigned to me (open only)", item+` === null`)
		agentB.do("reopen", chromedp.Click(chromedp.ID("reopen")))
		agentB.waitJS("open again", `document.querySelector('#conv-title .badge.closed') === null && document.querySelector('#close') !== null`)
		agentB.waitJS("back in Assigned to me", item+` !== null`)
	})

	step("phone width", func(t *testing.T) {
		agentB.do("narrow", chromedp.EmulateViewport(390, 800))
		agentB.open("/app?view=mine&c=" + conv)
		if eval[bool](agentB, `getComputedStyle(document.querySelector('#list')).display !== "none"`) {
			t.Error("at phone width the open conversation should replace the list")
		}
		if !eval[bool](agentB, `document.documentElement.scrollWidth <= 400`) {
			t.Errorf("the page scrolls sideways at phone width: %v px", eval[float64](agentB, `document.documentElement.scrollWidth`))
		}
		agentB.shot("11-bob-phone")
	})

	step("sign-out revokes the session", func(t *testing.T) {
		agentA.open("/app")
		cookie := sessionCookie(agentA)
		agentA.do("sign out", chromedp.Click(chromedp.CSS("#avatar-menu summary")), chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("sign-in")))
		agentA.open("/app")
		if !strings.HasSuffix(eval[string](agentA, `location.pathname`), "/login") {
			t.Error("after signing out /app does not send to the sign-in page")
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users/me", nil)
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: cookie})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the signed-out session's token still works: %d", resp.StatusCode)
		}
	})
	t.Logf("browser flow on %s took %s; screenshots in %s", db, time.Since(start).Round(time.Millisecond), dir)
}

// sessionCookie returns the tab's session cookie (HttpOnly: the page's
// script cannot read it; the protocol can).
func sessionCookie(b *tab) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Action[*network.GetCookiesResult](func(ctx context.Context, t *chromedp.Target) (*network.GetCookiesResult, error) {
		r, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base}})
		return &r, err
	}))
	if err != nil {
		b.t.Fatalf("reading cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == httpapi.SessionCookie {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
				b.t.Errorf("the session cookie is not HttpOnly and SameSite=Lax: %+v", c)
			}
			return c.Value
		}
	}
	b.t.Fatalf("no session cookie in %s's browser", b.name)
	return ""
}

// bind makes the tabs report to t.
func bind(t *testing.T, tabs ...*tab) {
	for _, b := range tabs {
		b.t = t
	}
}
