package routing

import (
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// InHours reports whether now, read on the wall clock of loc, falls in one
// of the weekly ranges (the rule of R-X1's working hours, used for a chat
// channel's operating hours, R-V4). A range whose End is before its Start
// runs overnight into the next day. Reading the wall clock makes the
// ranges follow daylight saving time. A nil loc is UTC.
func InHours(ranges []sb.HoursRange, loc *time.Location, now time.Time) bool {
	if loc == nil {
		loc = time.UTC
	}
	return inHours(ranges, now.In(loc))
}

// NextOpening returns the first instant after now at which one of the
// weekly ranges starts, on the wall clock of loc (R-V5's return time:
// "back at 09:00 Monday"). ok is false when there are no ranges. A start
// that falls in a daylight-saving gap (02:30 on a spring-forward night)
// opens at the first wall-clock time after the gap, which is the same
// instant as the start read before the change; a start repeated by a
// fall-back night opens at its first occurrence.
func NextOpening(ranges []sb.HoursRange, loc *time.Location, now time.Time) (at time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	y, m, d := local.Date()
	for day := 0; day <= 7; day++ {
		date := time.Date(y, m, d+day, 12, 0, 0, 0, loc) // noon exists every day
		for _, r := range ranges {
			if r.Day != date.Weekday() || r.Start < 0 || r.Start >= 1440 {
				continue
			}
			t := time.Date(date.Year(), date.Month(), date.Day(), r.Start/60, r.Start%60, 0, 0, loc)
			if t.After(now) && (!ok || t.Before(at)) {
				at, ok = t, true
			}
		}
		if ok {
			return at, true
		}
	}
	return time.Time{}, false
}
