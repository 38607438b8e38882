package widget

import (
	"fmt"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// Channel states (R-V5).
const (
	StateAvailable    = "available"     // someone can answer: the typical reply time
	StateAway         = "away"          // in hours (or by users), nobody free: the away message
	StateOutsideHours = "outside_hours" // outside operating hours: return time, away message or no launcher
)

// State is what the widget shows about the channel's availability.
type State struct {
	Status string `json:"status"`
	// Launcher is false when the launcher must be hidden (outside hours with
	// outside_hours hide, R-V5; everyone at capacity with hide_launcher,
	// R-A10). A visitor with an open conversation still sees it.
	Launcher bool `json:"launcher"`
	// Message is the line under the heading: the typical reply time, the
	// away message, the return time or the waiting message.
	Message string `json:"message"`
	// ReplyTime is the typical reply time while available.
	ReplyTime string `json:"reply_time,omitempty"`
	// ReturnsAt is when operating hours start again (outside hours).
	ReturnsAt *time.Time `json:"returns_at,omitempty"`
	// AtCapacity is set when candidates are available but every one of
	// them is at capacity (R-A10); Waiting when the widget shows the
	// waiting message for it.
	AtCapacity bool `json:"at_capacity"`
	Waiting    bool `json:"waiting"`
}

// Evaluate is the channel's state at now (R-V4, R-V5, R-A10), a pure
// function of its availability settings, the account's time zone, who
// could answer (routing.Staffing) and the routing rule's at-capacity
// behaviour:
//
//   - mode users: available when a candidate is available, else away;
//   - mode hours: outside the ranges (wall clock of loc, so daylight-saving
//     correct) outside_hours; inside, available when a candidate is
//     available, else away;
//   - mode always (24/7): always available.
//
// Outside hours the widget shows the return time ("We're back at 09:00
// Monday"), the away message, or no launcher, as configured. While
// available with every available candidate at capacity, the at-capacity
// behaviour applies: the waiting message, no launcher, or nothing. a must
// have been checked (ParseConfig fills in its defaults).
func Evaluate(a Availability, loc *time.Location, now time.Time, staff routing.Staffing, atCapacity string, waitingMessage string) State {
	st := State{Status: StateAvailable, Launcher: true}
	switch {
	case a.Mode == ModeHours && !routing.InHours(a.Hours, loc, now):
		st.Status = StateOutsideHours
		switch a.OutsideHours {
		case OutsideHide:
			st.Launcher = false
			st.Message = a.AwayMessage
		case OutsideAwayMessage:
			st.Message = a.AwayMessage
		default:
			st.Message = a.AwayMessage
			if at, ok := routing.NextOpening(a.Hours, loc, now); ok {
				at = at.UTC()
				st.ReturnsAt = &at
				st.Message = "We're " + ReturnText(at, loc, now) + "."
			}
		}
		return st
	case a.Mode != ModeAlways && staff.Available == 0:
		st.Status = StateAway
		st.Message = a.AwayMessage
		return st
	}
	st.ReplyTime = a.ReplyTime
	st.Message = "We typically reply in " + a.ReplyTime + "."
	if staff.Available > 0 && staff.Free == 0 {
		st.AtCapacity = true
		switch atCapacity {
		case sb.AtCapacityWaitingMessage:
			st.Waiting = true
			st.Message = waitingMessage
			if st.Message == "" {
				st.Message = DefaultWaitingMessage
			}
		case sb.AtCapacityHideLauncher:
			st.Launcher = false
		}
	}
	return st
}

// ReturnText says when at is, seen from now on the wall clock of loc:
// "back at 09:00 today", "back at 09:00 tomorrow", or "back at 09:00
// Monday" within the week.
func ReturnText(at time.Time, loc *time.Location, now time.Time) string {
	if loc == nil {
		loc = time.UTC
	}
	la, ln := at.In(loc), now.In(loc)
	day := la.Weekday().String()
	ya, ma, da := la.Date()
	yn, mn, dn := ln.Date()
	if ya == yn && ma == mn && da == dn {
		day = "today"
	} else if t := time.Date(yn, mn, dn+1, 12, 0, 0, 0, loc); t.Year() == ya && t.Month() == ma && t.Day() == da {
		day = "tomorrow"
	}
	return fmt.Sprintf("back at %s %s", la.Format("15:04"), day)
}
