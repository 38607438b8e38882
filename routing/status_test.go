package routing_test

import (
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func rng(day time.Weekday, fromH, fromM, toH, toM int) sb.HoursRange {
	return sb.HoursRange{Day: day, Start: fromH*60 + fromM, End: toH*60 + toM}
}

// statusCase is one row of an effective-status table.
type statusCase struct {
	name string
	u    *sb.User
	at   time.Time
	st   sb.Status
	why  sb.StatusReason
}

func runStatusCases(t *testing.T, cases []statusCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, why := routing.EffectiveStatus(c.u, c.at)
			if st != c.st || why != c.why {
				t.Errorf("EffectiveStatus = %s/%s, want %s/%s", st, why, c.st, c.why)
			}
			// The snapshot precomputes the same status.
			s := routing.NewSnapshot(c.at, []*sb.User{c.u}, nil, nil)
			st, why, ok := s.Effective(c.u.ID)
			if !ok || st != c.st || why != c.why {
				t.Errorf("Snapshot.Effective = %s/%s/%v, want %s/%s/true", st, why, ok, c.st, c.why)
			}
		})
	}
}

// nineToFive is Monday to Friday, 9:00 to 17:00 in zone.
func nineToFive(zone string) userOpt {
	var rs []sb.HoursRange
	for d := time.Monday; d <= time.Friday; d++ {
		rs = append(rs, rng(d, 9, 0, 17, 0))
	}
	return hours(zone, rs...)
}

func ooo(from, to time.Time) userOpt {
	return func(u *sb.User) { u.OutOfOffice = append(u.OutOfOffice, sb.DateRange{From: from, To: to}) }
}

// Rule R-X1: one effective status per user with its reason: manual toggle,
// set by an admin, out of office, working hours.
func TestEffectiveStatus(t *testing.T) {
	trip := ooo(utc(2026, 3, 2, 0, 0), utc(2026, 3, 6, 0, 0)) // contains now
	split := hours("", rng(time.Wednesday, 9, 0, 12, 0), rng(time.Wednesday, 13, 0, 17, 0))
	night := hours("", rng(time.Tuesday, 22, 0, 6, 0))
	runStatusCases(t, []statusCase{
		{"R-X1 available by own toggle", user("ann"), now, sb.Available, sb.ReasonManual},
		{"R-X1 away by own toggle", user("ann", away), now, sb.Away, sb.ReasonManual},
		{"R-X1 own toggle recorded as set by self is manual", user("ann", away, setBy("ann")), now, sb.Away, sb.ReasonManual},
		{"R-X1 set away by an admin", user("ann", away, setBy("boss")), now, sb.Away, sb.ReasonSetByAdmin},
		{"R-X1 set available by an admin", user("ann", setBy("boss")), now, sb.Available, sb.ReasonSetByAdmin},
		{"R-X1 empty status counts as available", user("ann", func(u *sb.User) { u.Status = "" }), now, sb.Available, sb.ReasonManual},
		{"R-X1 inside out of office", user("ann", trip), now, sb.Away, sb.ReasonOutOfOffice},
		{"R-X1 out of office starts at From", user("ann", trip), utc(2026, 3, 2, 0, 0), sb.Away, sb.ReasonOutOfOffice},
		{"R-X1 out of office ends before To", user("ann", trip), utc(2026, 3, 6, 0, 0), sb.Available, sb.ReasonManual},
		{"R-X1 before out of office", user("ann", trip), utc(2026, 3, 1, 23, 59), sb.Available, sb.ReasonManual},
		{"R-X1 second out-of-office range", user("ann", trip, ooo(utc(2026, 4, 1, 0, 0), utc(2026, 4, 2, 0, 0))), utc(2026, 4, 1, 12, 0), sb.Away, sb.ReasonOutOfOffice},
		{"R-X1 manual away beats out of office", user("ann", away, trip), now, sb.Away, sb.ReasonManual},
		{"R-X1 admin away beats working hours", user("ann", away, setBy("boss"), nineToFive("")), utc(2026, 3, 7, 12, 0), sb.Away, sb.ReasonSetByAdmin},
		{"R-X1 manual away beats hours", user("ann", away, nineToFive("")), now, sb.Away, sb.ReasonManual},
		{"R-X1 out of office beats hours", user("ann", trip, nineToFive("")), now, sb.Away, sb.ReasonOutOfOffice},
		{"R-X1 inside working hours", user("ann", nineToFive("")), now, sb.Available, sb.ReasonManual},
		{"R-X1 inside hours keeps admin reason", user("ann", setBy("boss"), nineToFive("")), now, sb.Available, sb.ReasonSetByAdmin},
		{"R-X1 weekend is outside hours", user("ann", nineToFive("")), utc(2026, 3, 7, 10, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 end of range is exclusive", user("ann", nineToFive("")), utc(2026, 3, 4, 17, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 start of range is inclusive", user("ann", nineToFive("")), utc(2026, 3, 4, 9, 0), sb.Available, sb.ReasonManual},
		{"R-X1 unknown zone counts as UTC", user("ann", nineToFive("Mars/Olympus")), utc(2026, 3, 4, 16, 59), sb.Available, sb.ReasonManual},
		{"R-X1 unknown zone counts as UTC outside", user("ann", nineToFive("Mars/Olympus")), utc(2026, 3, 4, 8, 59), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 several ranges a day: first", user("ann", split), utc(2026, 3, 4, 11, 59), sb.Available, sb.ReasonManual},
		{"R-X1 several ranges a day: lunch", user("ann", split), utc(2026, 3, 4, 12, 30), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 several ranges a day: second", user("ann", split), utc(2026, 3, 4, 13, 0), sb.Available, sb.ReasonManual},
		{"R-X1 several ranges a day: evening", user("ann", split), utc(2026, 3, 4, 17, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 range to end of day", user("ann", hours("", rng(time.Wednesday, 20, 0, 24, 0))), utc(2026, 3, 4, 23, 59), sb.Available, sb.ReasonManual},
		{"R-X1 overnight range before midnight", user("ann", night), utc(2026, 3, 3, 23, 0), sb.Available, sb.ReasonManual},
		{"R-X1 overnight range after midnight", user("ann", night), utc(2026, 3, 4, 5, 59), sb.Available, sb.ReasonManual},
		{"R-X1 overnight range ends", user("ann", night), utc(2026, 3, 4, 6, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 overnight range not yet begun", user("ann", night), utc(2026, 3, 3, 21, 59), sb.Away, sb.ReasonWorkingHours},
	})
	t.Run("R-X1 nil user is away", func(t *testing.T) {
		if st, _ := routing.EffectiveStatus(nil, now); st != sb.Away {
			t.Errorf("EffectiveStatus(nil) = %s, want away", st)
		}
	})
	t.Run("R-X1 unknown user has no effective status", func(t *testing.T) {
		if _, _, ok := routing.NewSnapshot(now, nil, nil, nil).Effective("ghost"); ok {
			t.Error("Effective(ghost) ok = true")
		}
	})
}

// Rule R-X1: working hours are read on the wall clock of the user's own
// time zone, across both daylight-saving transitions.
func TestEffectiveStatusTimeZones(t *testing.T) {
	ams, ny := "Europe/Amsterdam", "America/New_York"
	runStatusCases(t, []statusCase{
		// Across time zones: 10:00 UTC on a Wednesday.
		{"R-X1 time zones: Amsterdam 11:00 is in hours", user("ann", nineToFive(ams)), now, sb.Available, sb.ReasonManual},
		{"R-X1 time zones: New York 05:00 is not", user("bob", nineToFive(ny)), now, sb.Away, sb.ReasonWorkingHours},
		{"R-X1 time zones: Tokyo 19:00 is not", user("cat", nineToFive("Asia/Tokyo")), now, sb.Away, sb.ReasonWorkingHours},
		{"R-X1 time zones: New York Friday evening is Saturday in UTC", user("bob", nineToFive(ny)), utc(2026, 3, 7, 1, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 time zones: New York Friday 16:00 is Friday 21:00 UTC", user("bob", nineToFive(ny)), utc(2026, 3, 6, 21, 0), sb.Available, sb.ReasonManual},

		// Europe/Amsterdam: CET -> CEST on 29 March 2026 at 02:00, CEST -> CET on 25 October 2026 at 03:00.
		{"R-X1 DST Amsterdam spring: Monday 07:30 UTC is 08:30 CET", user("ann", nineToFive(ams)), utc(2026, 3, 23, 7, 30), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST Amsterdam spring: a week later it is 09:30 CEST", user("ann", nineToFive(ams)), utc(2026, 3, 30, 7, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST Amsterdam spring: 01:59 CET before the jump", user("ann", hours(ams, rng(time.Sunday, 3, 0, 5, 0))), utc(2026, 3, 29, 0, 59), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST Amsterdam spring: 03:00 CEST right after", user("ann", hours(ams, rng(time.Sunday, 3, 0, 5, 0))), utc(2026, 3, 29, 1, 0), sb.Available, sb.ReasonManual},
		{"R-X1 DST Amsterdam autumn: 02:30 CEST first pass", user("ann", hours(ams, rng(time.Sunday, 2, 0, 3, 0))), utc(2026, 10, 25, 0, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST Amsterdam autumn: 02:30 CET second pass", user("ann", hours(ams, rng(time.Sunday, 2, 0, 3, 0))), utc(2026, 10, 25, 1, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST Amsterdam autumn: 03:00 CET after", user("ann", hours(ams, rng(time.Sunday, 2, 0, 3, 0))), utc(2026, 10, 25, 2, 0), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST Amsterdam autumn: Monday 08:30 UTC is 09:30 CET", user("ann", nineToFive(ams)), utc(2026, 10, 26, 8, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST Amsterdam autumn: Monday 16:30 UTC is 17:30 CET", user("ann", nineToFive(ams)), utc(2026, 10, 26, 16, 30), sb.Away, sb.ReasonWorkingHours},

		// America/New_York: EST -> EDT on 8 March 2026 at 02:00, EDT -> EST on 1 November 2026 at 02:00.
		{"R-X1 DST New York spring: Monday 13:30 UTC is 08:30 EST", user("bob", nineToFive(ny)), utc(2026, 3, 2, 13, 30), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST New York spring: a week later it is 09:30 EDT", user("bob", nineToFive(ny)), utc(2026, 3, 9, 13, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST New York spring: 01:59 EST before the jump", user("bob", hours(ny, rng(time.Sunday, 3, 0, 4, 0))), utc(2026, 3, 8, 6, 59), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST New York spring: 03:00 EDT right after", user("bob", hours(ny, rng(time.Sunday, 3, 0, 4, 0))), utc(2026, 3, 8, 7, 0), sb.Available, sb.ReasonManual},
		{"R-X1 DST New York autumn: 00:59 EDT before the range", user("bob", hours(ny, rng(time.Sunday, 1, 0, 2, 0))), utc(2026, 11, 1, 4, 59), sb.Away, sb.ReasonWorkingHours},
		{"R-X1 DST New York autumn: 01:30 EDT first pass", user("bob", hours(ny, rng(time.Sunday, 1, 0, 2, 0))), utc(2026, 11, 1, 5, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST New York autumn: 01:30 EST second pass", user("bob", hours(ny, rng(time.Sunday, 1, 0, 2, 0))), utc(2026, 11, 1, 6, 30), sb.Available, sb.ReasonManual},
		{"R-X1 DST New York autumn: 02:00 EST after", user("bob", hours(ny, rng(time.Sunday, 1, 0, 2, 0))), utc(2026, 11, 1, 7, 0), sb.Away, sb.ReasonWorkingHours},
	})
}

// Rule R-I4: an inbox limited to teams is seen by their main and extra
// members only; an inbox without teams by everyone.
func TestInboxAccess(t *testing.T) {
	sales := team("sales", ids("ann"), ids("bob"))
	ops := team("ops", ids("dan"), nil)
	teams := map[string]*sb.Team{"sales": sales, "ops": ops}
	limited := &sb.Inbox{ID: "lim", TeamIDs: ids("sales", "gone")}
	cases := []struct {
		name  string
		inbox *sb.Inbox
		user  string
		want  bool
	}{
		{"R-I4 main member", limited, "ann", true},
		{"R-I4 extra member", limited, "bob", true},
		{"R-I4 member of another team", limited, "dan", false},
		{"R-I4 in no team", limited, "eve", false},
		{"R-I4 empty team list is the whole account", openInbox, "eve", true},
		{"R-I4 unknown team grants nothing", &sb.Inbox{ID: "x", TeamIDs: ids("gone")}, "ann", false},
		{"R-I4 second team of the list", &sb.Inbox{ID: "y", TeamIDs: ids("sales", "ops")}, "dan", true},
		{"R-I4 nil inbox", nil, "ann", false},
	}
	users := []*sb.User{user("ann"), user("bob"), user("dan"), user("eve")}
	inboxes := []*sb.Inbox{limited, openInbox, {ID: "x", TeamIDs: ids("gone")}, {ID: "y", TeamIDs: ids("sales", "ops")}}
	s := routing.NewSnapshot(now, users, []*sb.Team{sales, ops}, inboxes)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eqb(t, "InboxAccess", routing.InboxAccess(c.inbox, teams, c.user), c.want)
			if c.inbox != nil {
				eqb(t, "Snapshot.CanAccess", s.CanAccess(c.inbox.ID, c.user), c.want)
			}
		})
	}
	t.Run("R-I4 snapshot: unknown inbox or user", func(t *testing.T) {
		eqb(t, "CanAccess(unknown inbox)", s.CanAccess("nope", "ann"), false)
		eqb(t, "CanAccess(unknown user)", s.CanAccess("in1", "ghost"), false)
	})
}
