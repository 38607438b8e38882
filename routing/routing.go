// Package routing is Switchboard's pure routing engine. It does no IO: no
// database, no clock, no goroutines, no global random source. Callers hand
// it a Snapshot of the account (users with their load, teams, inboxes) taken
// at one instant, and it returns decisions with the reasons for them, from
// which R-A12's record is built.
//
// Hot path: Snapshot.Pool compiles a channel's rule once per snapshot into
// dense candidate indexes; Pool.Decide then runs in time linear in the
// number of candidates without allocating per candidate, so that a decision
// among 1,000 candidates takes a few microseconds.
package routing

import (
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// Rand is the randomness the engine needs: a uniform int in [0, n).
// *math/rand/v2.Rand satisfies it.
type Rand interface {
	IntN(n int) int
}

// ActiveWindow is how recently a user must have been active in the inbox
// to win R-A9's first tie-break.
const ActiveWindow = 2 * time.Minute

// Arrival describes what is being routed, beyond the channel's rule.
type Arrival struct {
	Trigger string // sb.Trigger*
	// Contact is the conversation's contact; nil when unknown.
	Contact *sb.Contact
	// ContactKnown reports that the contact existed before this arrival and
	// was identified (by email for email and forms, by the visitor token for
	// chat), as R-A8 requires for contact-owner routing.
	ContactKnown bool
	// Previous is the previous assignee to prefer if still a candidate (R-X4).
	Previous string
	// Exclude lists users never to pick: the away assignee of R-V3, the users
	// already tried of R-X3.
	Exclude []string
	// StepUserIDs, when non-nil, is the bot chatflow's "send to team member"
	// step: only these users are candidates (R-A4).
	StepUserIDs []string
	// ForceAvailable ignores the rule's only-available switch and requires
	// availability (R-V3 routes "to someone online").
	ForceAvailable bool
}
