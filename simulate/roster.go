package simulate

import (
	"encoding/json"
	"fmt"
	"io"

	sb "github.com/switchboard-dev/switchboard"
)

// Roster is who the simulated rule routes to: users with their statuses,
// capacities, working hours and out-of-office, teams, and optionally the
// inboxes (for R-I4's access) and the weighted-capacity setting (R-X5).
// It is a file the user writes or the account's own, as it is now.
type Roster struct {
	// Name labels the roster in reports ("Bob in team B").
	Name    string             `json:"name,omitempty"`
	Users   []RosterUser       `json:"users"`
	Teams   []RosterTeam       `json:"teams,omitempty"`
	Inboxes []*sb.Inbox        `json:"inboxes,omitempty"`
	Weights *sb.RoutingWeights `json:"weights,omitempty"`
}

// RosterUser is one user of a roster. A user has a paid seat and is
// available unless the roster says otherwise.
type RosterUser struct {
	ID           string          `json:"id"`
	Name         string          `json:"name,omitempty"`
	PaidSeat     *bool           `json:"paid_seat,omitempty"`
	ChatCapacity int             `json:"chat_capacity,omitempty"`
	Status       sb.Status       `json:"status,omitempty"`
	WorkingHours sb.WorkingHours `json:"working_hours,omitzero"`
	OutOfOffice  []sb.DateRange  `json:"out_of_office,omitempty"`
}

// RosterTeam is a team of a roster. Routing reaches main members (R-A5).
type RosterTeam struct {
	ID             string   `json:"id"`
	Name           string   `json:"name,omitempty"`
	MainMemberIDs  []string `json:"main_member_ids"`
	ExtraMemberIDs []string `json:"extra_member_ids,omitempty"`
}

// RosterFrom makes a roster of an account's users, teams, inboxes and
// weights as they are (statuses included; loads are not carried over: a
// run starts with nobody busy).
func RosterFrom(users []*sb.User, teams []*sb.Team, inboxes []*sb.Inbox, w *sb.RoutingWeights) *Roster {
	r := &Roster{Inboxes: inboxes, Weights: w}
	for _, u := range users {
		seat := u.PaidSeat
		r.Users = append(r.Users, RosterUser{ID: u.ID, Name: u.Name, PaidSeat: &seat, ChatCapacity: u.ChatCapacity,
			Status: u.Status, WorkingHours: u.WorkingHours, OutOfOffice: u.OutOfOffice})
	}
	for _, t := range teams {
		r.Teams = append(r.Teams, RosterTeam{ID: t.ID, Name: t.Name, MainMemberIDs: t.MainMemberIDs, ExtraMemberIDs: t.ExtraMemberIDs})
	}
	return r
}

// ReadRoster decodes a roster from JSON. Invalid if it is not one.
func ReadRoster(r io.Reader) (*Roster, error) {
	var ro Roster
	if err := decodeStrict(r, &ro); err != nil {
		return nil, sb.Invalidf("simulate.ReadRoster", "roster", "the roster is not valid JSON: %v", err)
	}
	return &ro, nil
}

// ReadRule decodes a rule from JSON: a saved channel as the API returns it
// (its other fields are ignored) or a proposed one. Invalid if it is not
// one.
func ReadRule(r io.Reader) (*Rule, error) {
	var ru Rule
	if err := json.NewDecoder(r).Decode(&ru); err != nil {
		return nil, sb.Invalidf("simulate.ReadRule", "rule", "the rule is not valid JSON: %v", err)
	}
	return &ru, ru.Validate()
}

func decodeStrict(r io.Reader, v any) error {
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// build turns the roster into the engine's users, teams and inboxes.
func (ro *Roster) build() ([]*sb.User, []*sb.Team, []*sb.Inbox, error) {
	const op = "simulate.Roster"
	seen := make(map[string]bool, len(ro.Users))
	users := make([]*sb.User, 0, len(ro.Users))
	for _, ru := range ro.Users {
		if ru.ID == "" {
			return nil, nil, nil, sb.Invalidf(op, "users", "every roster user needs an id")
		}
		if seen[ru.ID] {
			return nil, nil, nil, sb.Invalidf(op, "users", "user %q is listed twice", ru.ID)
		}
		seen[ru.ID] = true
		st := ru.Status
		switch st {
		case "":
			st = sb.Available
		case sb.Available, sb.Away:
		default:
			return nil, nil, nil, sb.Invalidf(op, "status", "user %q: status %q: use available or away", ru.ID, st)
		}
		name := ru.Name
		if name == "" {
			name = ru.ID
		}
		seat := ru.PaidSeat == nil || *ru.PaidSeat
		users = append(users, &sb.User{ID: ru.ID, Name: name, Role: sb.RoleAgent, PaidSeat: seat, ChatCapacity: ru.ChatCapacity,
			Status: st, WorkingHours: ru.WorkingHours, OutOfOffice: ru.OutOfOffice})
	}
	teams := make([]*sb.Team, 0, len(ro.Teams))
	for _, t := range ro.Teams {
		if t.ID == "" {
			return nil, nil, nil, sb.Invalidf(op, "teams", "every roster team needs an id")
		}
		teams = append(teams, &sb.Team{ID: t.ID, Name: t.Name, MainMemberIDs: t.MainMemberIDs, ExtraMemberIDs: t.ExtraMemberIDs})
	}
	return users, teams, ro.Inboxes, nil
}

// String summarises the roster for messages.
func (ro *Roster) String() string {
	return fmt.Sprintf("%d users, %d teams", len(ro.Users), len(ro.Teams))
}
