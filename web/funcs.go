package web

import (
	"html/template"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// funcs are the templates' helpers.
func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"has":      func(list []string, id string) bool { return slices.Contains(list, id) },
		"kindIcon": kindIcon,
		"initial": func(s string) string {
			for _, r := range strings.TrimSpace(s) {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"statusWords": statusWords,
		"hoursOn": func(wh sb.WorkingHours, day time.Weekday) bool {
			for _, r := range wh.Ranges {
				if r.Day == day {
					return true
				}
			}
			return false
		},
		"hoursFrom": func(wh sb.WorkingHours) string { return clock(firstRange(wh).Start, "09:00") },
		"hoursTo":   func(wh sb.WorkingHours) string { return clock(firstRange(wh).End, "17:00") },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
		"onlyAvailable": func(r sb.RoutingRule) bool { return r.AvailableOnly() },
	}
}

// kindIcon is a channel kind's small symbol (with a text label beside it
// in the page for screen readers).
func kindIcon(k sb.ChannelKind) string {
	switch k {
	case sb.KindEmail:
		return "✉"
	case sb.KindChat:
		return "💬"
	case sb.KindMessenger:
		return "Ⓜ"
	case sb.KindWhatsApp:
		return "✆"
	case sb.KindForm:
		return "📝"
	case sb.KindCalling:
		return "☎"
	}
	return "•"
}

// statusWords explains an effective status and its reason (R-X1).
func statusWords(st sb.Status, why sb.StatusReason) string {
	if st == sb.Available {
		return "Available"
	}
	switch why {
	case sb.ReasonWorkingHours:
		return "Away — outside working hours"
	case sb.ReasonOutOfOffice:
		return "Away — out of office"
	case sb.ReasonSetByAdmin:
		return "Away — set by an admin"
	}
	return "Away — you set it"
}

func firstRange(wh sb.WorkingHours) sb.HoursRange {
	if len(wh.Ranges) == 0 {
		return sb.HoursRange{Start: -1, End: -1}
	}
	return wh.Ranges[0]
}

// clock writes minutes after midnight as HH:MM, or def for a negative.
func clock(min int, def string) string {
	if min < 0 {
		return def
	}
	if min >= 1440 {
		return "23:59"
	}
	return pad(min/60) + ":" + pad(min%60)
}

func pad(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}
