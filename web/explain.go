package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// decisionView is one routing record (R-A12) in plain words.
type decisionView struct {
	When       string
	Trigger    string
	Rule       string
	Reason     string
	Outcome    string
	TieBreak   string
	Candidates []candidateView
	Manual     bool
}

type candidateView struct {
	Name    string
	Via     string
	Status  string
	Load    string
	Verdict string
	Won     bool
}

var triggerWords = map[string]string{
	sb.TriggerCreated:         "A new conversation came in",
	sb.TriggerReturning:       "The contact wrote again",
	sb.TriggerReassignReplies: "The contact wrote again while the assignee was away with “reassign replies” on",
	sb.TriggerBacklogDrain:    "Someone became free to take waiting conversations",
	sb.TriggerManual:          "Someone assigned it by hand",
	sb.TriggerReplyAssign:     "Someone replied while it was unassigned",
}

var strategyWords = map[string]string{
	"random":            "a random pick among the candidates",
	"least_busy":        "the least busy candidate",
	"owner":             "the contact's owner",
	"fixed_user":        "one named user",
	"previous_assignee": "the previous assignee",
	"manual":            "a person's choice",
	"oldest_first":      "the oldest waiting conversation first",
	"none":              "nobody",
}

var modeWords = map[string]string{
	sb.ModeSpecific:     "assign to chosen users and teams",
	sb.ModeContactOwner: "assign to the contact's owner",
	sb.ModeUnassigned:   "leave unassigned",
	"manual":            "assigned by hand",
}

var dropWords = map[string]string{
	sb.DropNoSeat:        "skipped: no paid seat",
	sb.DropNoInboxAccess: "skipped: no access to this inbox",
	sb.DropNotOnStep:     "skipped: not on the bot's hand-over step",
	sb.DropAway:          "skipped: away",
	sb.DropAtCapacity:    "skipped: at chat capacity",
	sb.DropUnknownUser:   "skipped: no longer exists",
	sb.DropExcluded:      "skipped: already tried",
	sb.DropNotCandidate:  "skipped: no longer a candidate",
	sb.DropDuplicate:     "counted once: listed twice",
	sb.DropOwnerAway:     "kept, but away: notified by email",
}

var tieBreakWords = map[string]string{
	"recently_active":         "several were equally busy; the one most recently active in the inbox won",
	"least_recently_assigned": "several were equally busy and active; the one assigned a chat longest ago won",
	"rule_order":              "still tied; the one listed first in the rule won",
}

var outcomeWords = map[string]string{
	sb.OutcomeAssigned:   "Assigned",
	sb.OutcomeUnassigned: "Left unassigned",
	sb.OutcomeWaiting:    "Waiting: every candidate is at capacity",
	sb.OutcomeKept:       "Kept with the assignee",
}

// explain turns a routing record into words.
func explain(d *sb.Decision, n *names, now time.Time) decisionView {
	v := decisionView{When: ago(now, d.CreatedAt), Trigger: orWord(triggerWords, d.Trigger), Reason: d.Reason, Manual: d.Strategy == "manual",
		Outcome: orWord(outcomeWords, d.Outcome), TieBreak: tieBreakWords[d.TieBreak]}
	if d.Outcome == sb.OutcomeAssigned && d.AssigneeID != "" {
		v.Outcome = "Assigned to " + nameOr(n.user(d.AssigneeID), d.AssigneeID)
	}
	if !v.Manual {
		v.Rule = fmt.Sprintf("Rule: %s; picks %s", orWord(modeWords, d.Mode), orWord(strategyWords, d.Strategy))
		if d.UsedFallback {
			v.Rule += " (the fallback applied)"
		}
	}
	for _, c := range d.Candidates {
		cv := candidateView{Name: nameOr(n.user(c.UserID), c.UserID), Via: via(c.Via, n), Status: string(c.Status), Won: c.Dropped == "" && c.UserID == d.AssigneeID}
		if c.StatusReason != "" && c.StatusReason != string(sb.ReasonManual) {
			cv.Status += " (" + strings.ReplaceAll(c.StatusReason, "_", " ") + ")"
		}
		cv.Load = strconv.Itoa(c.Load) + " open chats"
		if c.Load == 1 {
			cv.Load = "1 open chat"
		}
		if c.Capacity > 0 {
			cv.Load = fmt.Sprintf("%d of %d chats", c.Load, c.Capacity)
		}
		switch {
		case c.Dropped == sb.DropExcluded && d.Trigger == sb.TriggerReassignReplies:
			cv.Verdict = "skipped: the assignee, away with “reassign replies” on"
		case c.Dropped != "":
			cv.Verdict = orWord(dropWords, c.Dropped)
		case cv.Won:
			cv.Verdict = "won"
		default:
			cv.Verdict = "in the running, not picked"
		}
		v.Candidates = append(v.Candidates, cv)
	}
	return v
}

func via(v string, n *names) string {
	switch {
	case v == "user":
		return "named in the rule"
	case strings.HasPrefix(v, "team:"):
		return "member of team " + nameOr(n.team(strings.TrimPrefix(v, "team:")), "?")
	case v == "owner":
		return "the contact's owner"
	case v == "fallback_user":
		return "the fallback user"
	case v == "previous_assignee":
		return "the previous assignee"
	case v == "step":
		return "on the bot's hand-over step"
	}
	return v
}

func orWord(m map[string]string, k string) string {
	if w, ok := m[k]; ok {
		return w
	}
	return strings.ReplaceAll(k, "_", " ")
}

func nameOr(name, fallback string) string {
	if name != "" {
		return name
	}
	return fallback
}

// ago says how long ago t was, shortly.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + " d"
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
