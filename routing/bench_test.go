package routing_test

import (
	"fmt"
	"testing"
	"time"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/routing"
)

// bigUsers returns n seated, available users with mixed loads, activity
// and last assignments; the second half form one team.
func bigUsers(n int) ([]*sb.User, []*sb.Team) {
	users := make([]*sb.User, n)
	t := team("all", nil, nil)
	for i := range users {
		u := user(fmt.Sprintf("u%04d", i), load(1+(i*7919)%13), capacity(20))
		if i%5 == 0 {
			u.LastActiveAt = now.Add(-time.Duration(i%240) * time.Second)
		}
		if i%3 != 0 {
			u.LastChatAssignedAt = now.Add(-time.Duration(i) * time.Minute)
		}
		users[i] = u
		if i >= n/2 {
			t.MainMemberIDs = append(t.MainMemberIDs, u.ID)
		}
	}
	return users, []*sb.Team{t}
}

// bigWorld is a snapshot of n candidates and a channel of kind k routing
// to all of them: half named, half through their team.
func bigWorld(n int, k sb.ChannelKind) (*routing.Snapshot, *sb.Channel) {
	users, teams := bigUsers(n)
	var named []string
	for _, u := range users[:n/2] {
		named = append(named, u.ID)
	}
	s := routing.NewSnapshot(now, users, teams, []*sb.Inbox{openInbox})
	return s, channel(k, specific(named, "all"))
}

func benchDecide(b *testing.B, k sb.ChannelKind) {
	s, ch := bigWorld(1000, k)
	p := s.Pool(ch)
	r := seeded()
	a := routing.Arrival{Trigger: sb.TriggerCreated}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := p.Decide(a, r); res.Outcome != sb.OutcomeAssigned {
			b.Fatal(res.Reason)
		}
	}
}

func BenchmarkDecide1000LeastBusy(b *testing.B) { benchDecide(b, sb.KindChat) }

func BenchmarkDecide1000Random(b *testing.B) { benchDecide(b, sb.KindEmail) }

func BenchmarkRecord1000(b *testing.B) {
	s, ch := bigWorld(1000, sb.KindChat)
	res := s.Pool(ch).Decide(routing.Arrival{}, nil)
	b.ReportAllocs()
	for b.Loop() {
		if d := res.Record(s); len(d.Candidates) != 1000 {
			b.Fatalf("%d candidates", len(d.Candidates))
		}
	}
}

func BenchmarkNewSnapshot1000(b *testing.B) {
	users, teams := bigUsers(1000)
	for i, u := range users {
		if i%2 == 0 {
			u.WorkingHours = sb.WorkingHours{TimeZone: "Europe/Amsterdam", Ranges: []sb.HoursRange{{Day: time.Wednesday, Start: 0, End: 1440}}}
		}
	}
	inboxes := []*sb.Inbox{openInbox}
	b.ReportAllocs()
	for b.Loop() {
		routing.NewSnapshot(now, users, teams, inboxes)
	}
}
