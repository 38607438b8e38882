package routing

import (
	"slices"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// EffectiveStatus is R-X1: the one status routing uses for u at now, with
// its reason. In order:
//
//  1. A manual Away wins (reason set_by_admin when u.StatusSetBy names
//     someone else, manual otherwise).
//  2. Inside an out-of-office range [From, To): Away, out_of_office.
//  3. With working hours (non-empty Ranges) and now, read on the wall clock
//     of WorkingHours.TimeZone ("" or an unknown zone counts as UTC), inside
//     none of the ranges: Away, working_hours.
//  4. Otherwise Available, with the reason of the manual status.
//
// A range is [Start, End) minutes after local midnight on Day; a range
// whose End is before its Start runs overnight into the next day. Because
// ranges are read on the wall clock of the zone, they follow daylight
// saving time. A nil user is Away.
//
// Resolving the time zone reads the system's zone database; programs that
// must not depend on it import time/tzdata.
func EffectiveStatus(u *sb.User, now time.Time) (sb.Status, sb.StatusReason) {
	return effectiveStatus(u, now, nil)
}

// zoneCache memoises time.LoadLocation within one snapshot.
type zoneCache map[string]*time.Location

// location returns the named zone, UTC for "" or an unknown name.
func (z zoneCache) location(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if loc, ok := z[name]; ok {
		return loc
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	if z != nil {
		z[name] = loc
	}
	return loc
}

func effectiveStatus(u *sb.User, now time.Time, zones zoneCache) (sb.Status, sb.StatusReason) {
	if u == nil {
		return sb.Away, sb.ReasonManual
	}
	manual := sb.ReasonManual
	if u.StatusSetBy != "" && u.StatusSetBy != u.ID {
		manual = sb.ReasonSetByAdmin
	}
	if u.Status == sb.Away {
		return sb.Away, manual
	}
	for _, r := range u.OutOfOffice {
		if !now.Before(r.From) && now.Before(r.To) {
			return sb.Away, sb.ReasonOutOfOffice
		}
	}
	wh := u.WorkingHours
	if len(wh.Ranges) > 0 && !inHours(wh.Ranges, now.In(zones.location(wh.TimeZone))) {
		return sb.Away, sb.ReasonWorkingHours
	}
	return sb.Available, manual
}

// inHours reports whether the wall-clock time local falls in one of ranges.
func inHours(ranges []sb.HoursRange, local time.Time) bool {
	day := local.Weekday()
	yesterday := (day + 6) % 7
	minute := local.Hour()*60 + local.Minute()
	for _, r := range ranges {
		switch {
		case r.Start <= r.End:
			if r.Day == day && minute >= r.Start && minute < r.End {
				return true
			}
		case r.Day == day && minute >= r.Start: // overnight, first part
			return true
		case r.Day == yesterday && minute < r.End: // overnight, second part
			return true
		}
	}
	return false
}

// InboxAccess is R-I4: whether userID may see inbox. An inbox with no
// TeamIDs is open to the whole account; otherwise the user must be a main
// or an extra member of one of its teams. teams maps team id to team;
// unknown team ids grant nothing. A nil inbox grants nothing.
func InboxAccess(inbox *sb.Inbox, teams map[string]*sb.Team, userID string) bool {
	if inbox == nil {
		return false
	}
	if len(inbox.TeamIDs) == 0 {
		return true
	}
	for _, id := range inbox.TeamIDs {
		t := teams[id]
		if t == nil {
			continue
		}
		if slices.Contains(t.MainMemberIDs, userID) || slices.Contains(t.ExtraMemberIDs, userID) {
			return true
		}
	}
	return false
}
