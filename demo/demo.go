// Package demo fills an empty Switchboard database with a small, realistic
// account so that `switchboard serve --demo` has something to show: agents
// with and without seats, two teams, one inbox with four routed channels,
// contacts with owners and a handful of routed conversations.
//
// It goes through app's use cases only, exactly as an admin using the API
// would, so every rule (seats, inbox access, routing) applies to it.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/app"
)

// The demo login. The password is shorter than the API allows; it is set
// with app.Service.SetPasswordUnchecked, which only demo data uses.
const (
	AccountName   = "Demo Company"
	TimeZone      = "Europe/Amsterdam"
	AdminEmail    = "admin@demo.test"
	AdminPassword = "demo"
	// EmailAddress is the demo email channel's team address: mail to it
	// on the SMTP listener becomes a routed conversation.
	EmailAddress = "support@demo.test"
)

// Info describes the demo data: what Fill created, or found.
type Info struct {
	// Created is true when Fill created the account; false when the
	// database already had one and Fill left it alone.
	Created bool
	// LoginWorks is true when AdminEmail / AdminPassword sign in.
	LoginWorks bool
	// Channel ids by kind ("email", "chat", "form", "messenger"), when
	// known (always after Created; after a restart if the login works).
	Channels map[sb.ChannelKind]string
	// Conversations is how many conversations Fill created.
	Conversations int
}

// Fill creates the demo account if the database has no account yet. svc
// must be started (Inbound routes through its batcher). When an account
// already exists it changes nothing and returns Created false, with the
// channel ids if the demo login still works. Errors are app's.
func Fill(ctx context.Context, svc *app.Service) (*Info, error) {
	setup, err := svc.Setup(ctx, app.SetupInput{
		AccountName: AccountName, TimeZone: TimeZone,
		AdminEmail: AdminEmail, AdminName: "Demo Admin", Password: randomPassword(),
	})
	if sb.IsKind(err, sb.Conflict) {
		return existing(ctx, svc)
	}
	if err != nil {
		return nil, fmt.Errorf("demo: setting up the account: %w", err)
	}
	admin := app.Actor{AccountID: setup.Account.ID, UserID: setup.User.ID, Role: sb.RoleAdmin}
	if err := svc.SetPasswordUnchecked(ctx, admin.AccountID, admin.UserID, AdminPassword); err != nil {
		return nil, fmt.Errorf("demo: setting the admin password: %w", err)
	}
	b := &builder{svc: svc, admin: admin, info: &Info{Created: true, LoginWorks: true, Channels: map[sb.ChannelKind]string{}}}
	for _, step := range []func(context.Context) error{b.addPeople, b.addInbox, b.addContacts, b.addConversations} {
		if err := step(ctx); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return b.info, nil
}

// existing reports on a database that already has an account.
func existing(ctx context.Context, svc *app.Service) (*Info, error) {
	info := &Info{Channels: map[sb.ChannelKind]string{}}
	token, _, err := svc.Login(ctx, app.LoginInput{Email: AdminEmail, Password: AdminPassword})
	if sb.IsKind(err, sb.Unauthenticated) {
		return info, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo: signing in as %s: %w", AdminEmail, err)
	}
	info.LoginWorks = true
	a, err := svc.Authenticate(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	chans, err := svc.ListChannels(ctx, a, "")
	if err != nil {
		return nil, fmt.Errorf("demo: listing channels: %w", err)
	}
	for _, c := range chans {
		if _, seen := info.Channels[c.Kind]; !seen {
			info.Channels[c.Kind] = c.ID
		}
	}
	return info, nil
}

// builder carries the ids one step of Fill hands to the next.
type builder struct {
	svc   *app.Service
	admin app.Actor
	info  *Info

	ada, ben, cleo, dan string // agents: Ada has chat capacity 2; Dan has no seat
	support, sales      string // teams
	inbox               string
	contacts            []string // contact ids, in the order of contactSeeds
}

func (b *builder) addPeople(ctx context.Context) error {
	agents := []struct {
		id          *string
		email, name string
		seat        bool
		capacity    int
	}{
		{&b.ada, "ada@demo.test", "Ada Lovelace", true, 2},
		{&b.ben, "ben@demo.test", "Ben Okafor", true, 0},
		{&b.cleo, "cleo@demo.test", "Cleo Jansen", true, 0},
		{&b.dan, "dan@demo.test", "Dan Visser", false, 0},
	}
	for _, ag := range agents {
		u, err := b.svc.CreateUser(ctx, b.admin, app.UserInput{
			Email: ag.email, Name: ag.name, Role: sb.RoleAgent, PaidSeat: ag.seat,
			ChatCapacity: ag.capacity, Password: randomPassword(),
		})
		if err != nil {
			return fmt.Errorf("creating user %s: %w", ag.email, err)
		}
		if err := b.svc.SetPasswordUnchecked(ctx, b.admin.AccountID, u.ID, AdminPassword); err != nil {
			return fmt.Errorf("setting the password of %s: %w", ag.email, err)
		}
		*ag.id = u.ID
	}
	teams := []struct {
		id          *string
		name        string
		main, extra []string
	}{
		{&b.support, "Support", []string{b.ada, b.ben}, []string{b.cleo, b.admin.UserID}},
		{&b.sales, "Sales", []string{b.cleo, b.ben}, []string{b.dan}},
	}
	for _, t := range teams {
		team, err := b.svc.CreateTeam(ctx, b.admin, app.TeamInput{Name: t.name, MainMemberIDs: t.main, ExtraMemberIDs: t.extra})
		if err != nil {
			return fmt.Errorf("creating team %s: %w", t.name, err)
		}
		*t.id = team.ID
	}
	return nil
}

func (b *builder) addInbox(ctx context.Context) error {
	in, err := b.svc.CreateInbox(ctx, b.admin, app.InboxInput{Name: "Support", TeamIDs: []string{b.support, b.sales}})
	if err != nil {
		return fmt.Errorf("creating the inbox: %w", err)
	}
	b.inbox = in.ID
	channels := []app.ChannelInput{
		{ // random among the Support team's main members (R-A6: email is not chat-like)
			Kind: sb.KindEmail, Name: EmailAddress,
			Config:  json.RawMessage(`{"address":"` + EmailAddress + `"}`),
			Routing: &sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, TeamIDs: []string{b.support}},
		},
		{ // least busy of three named agents; Ada takes at most 2 chats
			Kind: sb.KindChat, Name: "Website chat",
			Config:  json.RawMessage(`{"welcome_message":"Hi! How can we help?"}`),
			Routing: &sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, UserIDs: []string{b.ada, b.ben, b.cleo}, AtCapacity: sb.AtCapacityWaitingMessage},
		},
		{ // the contact's owner, else random among Sales (R-A8)
			Kind: sb.KindForm, Name: "Contact form",
			Config: json.RawMessage(`{}`),
			Routing: &sb.RoutingRule{Enabled: true, Mode: sb.ModeContactOwner,
				Fallback: sb.Fallback{Mode: sb.FallbackSpecific, TeamIDs: []string{b.sales}}},
		},
		{ // least busy across both teams' main members
			Kind: sb.KindMessenger, Name: "Facebook page",
			Config:  json.RawMessage(`{"page_id":"100000000000001"}`),
			Routing: &sb.RoutingRule{Enabled: true, Mode: sb.ModeSpecific, TeamIDs: []string{b.support, b.sales}},
		},
	}
	for _, c := range channels {
		ch, err := b.svc.CreateChannel(ctx, b.admin, b.inbox, c)
		if err != nil {
			return fmt.Errorf("creating the %s channel: %w", c.Kind, err)
		}
		b.info.Channels[c.Kind] = ch.ID
	}
	return nil
}

// contactSeeds are the demo's known contacts; owner is an index into the
// agents (0 Ada, 1 Ben, 2 Cleo) or -1 for none.
var contactSeeds = []struct {
	email, name, phone string
	owner              int
}{
	{"maria@example.com", "Maria Garcia", "+31612345001", 0},
	{"tom@example.com", "Tom de Vries", "+31612345002", 1},
	{"yuki@example.com", "Yuki Tanaka", "", 2},
	{"lars@example.com", "Lars Berg", "", 0},
	{"priya@example.com", "Priya Patel", "+31612345005", -1},
}

func (b *builder) addContacts(ctx context.Context) error {
	owners := []string{b.ada, b.ben, b.cleo}
	for _, c := range contactSeeds {
		in := app.ContactInput{Email: c.email, Name: c.name, Phone: c.phone}
		if c.owner >= 0 {
			in.OwnerID = owners[c.owner]
		}
		ct, err := b.svc.CreateContact(ctx, b.admin, in)
		if err != nil {
			return fmt.Errorf("creating contact %s: %w", c.email, err)
		}
		b.contacts = append(b.contacts, ct.ID)
	}
	return nil
}

// conversationSeeds are the demo's first conversations, routed through
// Inbound like any other message.
var conversationSeeds = []struct {
	kind    sb.ChannelKind
	contact app.InboundContact
	subject string
	body    string
}{
	{sb.KindEmail, app.InboundContact{Email: "maria@example.com", Name: "Maria Garcia"}, "Invoice 2041",
		"Hello, I think invoice 2041 charges us twice for March. Could you check?"},
	{sb.KindEmail, app.InboundContact{Email: "noah@example.com", Name: "Noah Smit"}, "Password reset",
		"The password reset mail never arrives. I tried three times."},
	{sb.KindChat, app.InboundContact{VisitorToken: "demo-visitor-1", Name: "Visitor"}, "",
		"Hi, do you ship to Belgium?"},
	{sb.KindChat, app.InboundContact{Email: "tom@example.com", Name: "Tom de Vries"}, "",
		"My order 7781 still says processing, is that right?"},
	{sb.KindChat, app.InboundContact{VisitorToken: "demo-visitor-2", Name: "Visitor"}, "",
		"Can I change the delivery address after ordering?"},
	{sb.KindForm, app.InboundContact{Email: "yuki@example.com", Name: "Yuki Tanaka"}, "Quote request",
		"We would like a quote for 40 seats, yearly billing."},
	{sb.KindForm, app.InboundContact{Email: "sam@example.com", Name: "Sam Peeters"}, "Partnership",
		"We are a reseller in Antwerp and would like to talk about a partnership."},
	{sb.KindMessenger, app.InboundContact{VisitorToken: "psid-4402", Name: "Lena Mol"}, "",
		"Are you open on Sunday?"},
}

func (b *builder) addConversations(ctx context.Context) error {
	for i, c := range conversationSeeds {
		res, err := b.svc.Inbound(ctx, b.admin, b.info.Channels[c.kind], app.InboundInput{
			Contact: c.contact, Body: c.body, Subject: c.subject, ExternalID: fmt.Sprintf("demo-%d", i+1),
		})
		if err != nil {
			return fmt.Errorf("adding conversation %d (%s): %w", i+1, c.kind, err)
		}
		if !res.Duplicate {
			b.info.Conversations++
		}
	}
	return nil
}

// randomPassword is a throwaway password that passes the API's rules; the
// demo then sets the short demo password with SetPasswordUnchecked.
func randomPassword() string {
	p := make([]byte, 16)
	_, _ = rand.Read(p) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(p)
}
