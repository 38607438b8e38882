package widget_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone tables must not depend on the host

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
	"github.com/switchboard-dev/switchboard/widget"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// weekdays is Monday to Friday, start to end minutes.
func weekdays(start, end int) []sb.HoursRange {
	var rs []sb.HoursRange
	for d := time.Monday; d <= time.Friday; d++ {
		rs = append(rs, sb.HoursRange{Day: d, Start: start, End: end})
	}
	return rs
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	staffed   = routing.Staffing{Candidates: 2, Available: 1, Free: 1}
	nobody    = routing.Staffing{Candidates: 2}
	allBusy   = routing.Staffing{Candidates: 2, Available: 2, Free: 0}
	office    = weekdays(9*60, 17*60)
	splitDay  = []sb.HoursRange{{Day: time.Monday, Start: 9 * 60, End: 12 * 60}, {Day: time.Monday, Start: 13 * 60, End: 17 * 60}}
	overnight = []sb.HoursRange{{Day: time.Saturday, Start: 22 * 60, End: 2 * 60}}
)

// TestEvaluateHours: operating hours in the account's time zone, several
// ranges a day, overnight ranges, and the return time, across daylight-
// saving changes in Europe/Amsterdam, America/New_York and
// Australia/Sydney (R-V4, R-V5).
func TestEvaluateHours(t *testing.T) {
	cases := []struct {
		name    string
		zone    string
		hours   []sb.HoursRange
		now     string // UTC
		status  string
		returns string // UTC instant of the return time, "" for none
		message string
	}{
		// Europe/Amsterdam: spring forward 2026-03-29 02:00 CET -> 03:00 CEST.
		{"R-V5 Amsterdam Friday evening before spring forward returns Monday 09:00 CEST", "Europe/Amsterdam", office,
			"2026-03-27T16:30:00Z", widget.StateOutsideHours, "2026-03-30T07:00:00Z", "We're back at 09:00 Monday."},
		{"R-V4 Amsterdam Monday 09:30 CEST after spring forward is in hours", "Europe/Amsterdam", office,
			"2026-03-30T07:30:00Z", widget.StateAvailable, "", ""},
		{"R-V4 Amsterdam Monday 08:30 CEST is not yet in hours", "Europe/Amsterdam", office,
			"2026-03-30T06:30:00Z", widget.StateOutsideHours, "2026-03-30T07:00:00Z", "We're back at 09:00 today."},
		{"R-V5 Amsterdam a start in the spring-forward gap opens when the gap ends", "Europe/Amsterdam", []sb.HoursRange{{Day: time.Sunday, Start: 150, End: 300}},
			"2026-03-28T20:00:00Z", widget.StateOutsideHours, "2026-03-29T01:30:00Z", ""},
		// Fall back 2026-10-25 03:00 CEST -> 02:00 CET.
		{"R-V4 Amsterdam Monday 09:30 CET after fall back is in hours", "Europe/Amsterdam", office,
			"2026-10-26T08:30:00Z", widget.StateAvailable, "", ""},
		{"R-V4 Amsterdam Monday 08:30 CET after fall back is not", "Europe/Amsterdam", office,
			"2026-10-26T07:30:00Z", widget.StateOutsideHours, "2026-10-26T08:00:00Z", "We're back at 09:00 today."},
		{"R-V5 Amsterdam Friday before fall back returns Monday 09:00 CET", "Europe/Amsterdam", office,
			"2026-10-23T15:00:00Z", widget.StateOutsideHours, "2026-10-26T08:00:00Z", "We're back at 09:00 Monday."},
		// America/New_York: spring forward 2026-03-08 02:00 EST -> 03:00 EDT.
		{"R-V5 New York Saturday returns Monday 09:00 EDT", "America/New_York", office,
			"2026-03-07T17:00:00Z", widget.StateOutsideHours, "2026-03-09T13:00:00Z", "We're back at 09:00 Monday."},
		{"R-V4 New York Monday 09:15 EDT is in hours", "America/New_York", office,
			"2026-03-09T13:15:00Z", widget.StateAvailable, "", ""},
		// Fall back 2026-11-01 02:00 EDT -> 01:00 EST.
		{"R-V4 New York Monday 09:15 EST after fall back", "America/New_York", office,
			"2026-11-02T14:15:00Z", widget.StateAvailable, "", ""},
		{"R-V4 New York Monday 08:15 EST after fall back is not yet in hours", "America/New_York", office,
			"2026-11-02T13:15:00Z", widget.StateOutsideHours, "2026-11-02T14:00:00Z", "We're back at 09:00 today."},
		{"R-V5 New York a start repeated by the fall-back night opens at its first occurrence", "America/New_York", []sb.HoursRange{{Day: time.Sunday, Start: 90, End: 180}},
			"2026-10-31T12:00:00Z", widget.StateOutsideHours, "2026-11-01T05:30:00Z", "We're back at 01:30 tomorrow."},
		{"R-V4 New York overnight range, Sunday 01:00", "America/New_York", overnight,
			"2026-03-08T06:00:00Z", widget.StateAvailable, "", ""},
		{"R-V4 New York overnight range, Sunday 03:00 is over", "America/New_York", overnight,
			"2026-03-08T07:00:00Z", widget.StateOutsideHours, "2026-03-15T02:00:00Z", "We're back at 22:00 Saturday."},
		// Australia/Sydney: DST ends 2026-04-05 03:00 AEDT -> 02:00 AEST.
		{"R-V5 Sydney Friday evening returns Monday 09:00 AEST", "Australia/Sydney", office,
			"2026-04-03T07:00:00Z", widget.StateOutsideHours, "2026-04-05T23:00:00Z", "We're back at 09:00 Monday."},
		{"R-V4 Sydney Monday 09:30 AEST", "Australia/Sydney", office,
			"2026-04-05T23:30:00Z", widget.StateAvailable, "", ""},
		// DST starts 2026-10-04 02:00 AEST -> 03:00 AEDT.
		{"R-V5 Sydney Friday evening returns Monday 09:00 AEDT", "Australia/Sydney", office,
			"2026-10-02T08:00:00Z", widget.StateOutsideHours, "2026-10-04T22:00:00Z", "We're back at 09:00 Monday."},
		{"R-V4 Sydney Monday 08:30 AEDT is not yet in hours", "Australia/Sydney", office,
			"2026-10-04T21:30:00Z", widget.StateOutsideHours, "2026-10-04T22:00:00Z", "We're back at 09:00 today."},
		// Several ranges per day.
		{"R-V4 lunch break between two ranges returns at 13:00 today", "Europe/Amsterdam", splitDay,
			"2026-03-30T10:30:00Z", widget.StateOutsideHours, "2026-03-30T11:00:00Z", "We're back at 13:00 today."},
		{"R-V4 afternoon range", "Europe/Amsterdam", splitDay,
			"2026-03-30T11:30:00Z", widget.StateAvailable, "", ""},
		{"R-V5 Monday evening returns next Monday", "Europe/Amsterdam", splitDay,
			"2026-03-30T16:00:00Z", widget.StateOutsideHours, "2026-04-06T07:00:00Z", "We're back at 09:00 Monday."},
		{"R-V5 Thursday evening returns tomorrow", "America/New_York", office,
			"2026-03-12T23:00:00Z", widget.StateOutsideHours, "2026-03-13T13:00:00Z", "We're back at 09:00 tomorrow."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := widget.Availability{Mode: widget.ModeHours, Hours: tc.hours, OutsideHours: widget.OutsideReturnTime, ReplyTime: "a few minutes", AwayMessage: "away"}
			got := widget.Evaluate(a, zone(t, tc.zone), utc(tc.now), staffed, "", "")
			if got.Status != tc.status {
				t.Fatalf("status = %s, want %s (%+v)", got.Status, tc.status, got)
			}
			switch {
			case tc.returns == "" && got.ReturnsAt != nil:
				t.Errorf("returns at %s, want none", got.ReturnsAt)
			case tc.returns != "" && (got.ReturnsAt == nil || !got.ReturnsAt.Equal(utc(tc.returns))):
				t.Errorf("returns at %v, want %s", got.ReturnsAt, tc.returns)
			}
			if tc.message != "" && got.Message != tc.message {
				t.Errorf("message = %q, want %q", got.Message, tc.message)
			}
			if !got.Launcher {
				t.Error("the launcher is hidden")
			}
		})
	}
}

// TestEvaluateStates: what the widget shows per state (R-V5) and at
// capacity (R-A10); together R-C3.
func TestEvaluateStates(t *testing.T) {
	ams := zone(t, "Europe/Amsterdam")
	monday10 := utc("2026-03-30T08:00:00Z") // 10:00 CEST
	sunday := utc("2026-03-29T10:00:00Z")
	base := widget.Availability{ReplyTime: "an hour", AwayMessage: "We are away.", OutsideHours: widget.OutsideReturnTime}
	with := func(mode, outside string) widget.Availability {
		a := base
		a.Mode, a.Hours = mode, office
		if outside != "" {
			a.OutsideHours = outside
		}
		return a
	}
	cases := []struct {
		name       string
		a          widget.Availability
		now        time.Time
		staff      routing.Staffing
		atCapacity string
		want       widget.State
	}{
		{"R-V4 R-V5 users: available shows the typical reply time", with(widget.ModeUsers, ""), sunday, staffed, "",
			widget.State{Status: widget.StateAvailable, Launcher: true, Message: "We typically reply in an hour.", ReplyTime: "an hour"}},
		{"R-V4 R-V5 users: nobody available shows the away message", with(widget.ModeUsers, ""), monday10, nobody, "",
			widget.State{Status: widget.StateAway, Launcher: true, Message: "We are away."}},
		{"R-V5 hours: in hours, nobody free, away message", with(widget.ModeHours, ""), monday10, nobody, "",
			widget.State{Status: widget.StateAway, Launcher: true, Message: "We are away."}},
		{"R-V5 outside hours: away message as configured", with(widget.ModeHours, widget.OutsideAwayMessage), sunday, staffed, "",
			widget.State{Status: widget.StateOutsideHours, Launcher: true, Message: "We are away."}},
		{"R-V5 outside hours: hidden launcher as configured", with(widget.ModeHours, widget.OutsideHide), sunday, staffed, "",
			widget.State{Status: widget.StateOutsideHours, Launcher: false, Message: "We are away."}},
		{"R-V4 24/7 is available even with nobody online", with(widget.ModeAlways, ""), sunday, nobody, "",
			widget.State{Status: widget.StateAvailable, Launcher: true, Message: "We typically reply in an hour.", ReplyTime: "an hour"}},
		{"R-A10 everyone at capacity: waiting message", with(widget.ModeUsers, ""), monday10, allBusy, sb.AtCapacityWaitingMessage,
			widget.State{Status: widget.StateAvailable, Launcher: true, Message: "Busy, please wait.", ReplyTime: "an hour", AtCapacity: true, Waiting: true}},
		{"R-A10 everyone at capacity: hidden launcher", with(widget.ModeUsers, ""), monday10, allBusy, sb.AtCapacityHideLauncher,
			widget.State{Status: widget.StateAvailable, Launcher: false, Message: "We typically reply in an hour.", ReplyTime: "an hour", AtCapacity: true}},
		{"R-A10 everyone at capacity: nothing", with(widget.ModeUsers, ""), monday10, allBusy, sb.AtCapacityNothing,
			widget.State{Status: widget.StateAvailable, Launcher: true, Message: "We typically reply in an hour.", ReplyTime: "an hour", AtCapacity: true}},
		{"R-A10 one candidate still free: not at capacity", with(widget.ModeUsers, ""), monday10, routing.Staffing{Candidates: 2, Available: 2, Free: 1}, sb.AtCapacityHideLauncher,
			widget.State{Status: widget.StateAvailable, Launcher: true, Message: "We typically reply in an hour.", ReplyTime: "an hour"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := widget.Evaluate(tc.a, ams, tc.now, tc.staff, tc.atCapacity, "Busy, please wait.")
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
