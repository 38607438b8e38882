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

// kindIcon is a channel kind's small inline SVG symbol (hidden from
// screen readers; the page says the kind in words beside it). Drawn by
// hand so that no icon font or emoji font is needed.
func kindIcon(k sb.ChannelKind) template.HTML {
	const open = `<svg class="icon" viewBox="0 0 16 16" width="16" height="16" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">`
	var body string
	switch k {
	case sb.KindEmail:
		body = `<rect x="1.5" y="3.5" width="13" height="9" rx="1"/><path d="M2 4l6 5 6-5"/>`
	case sb.KindChat:
		body = `<path d="M2.5 3.5h11v7h-6l-3 3v-3h-2z"/>`
	case sb.KindMessenger:
		body = `<circle cx="8" cy="8" r="6"/><path d="M4.5 9.5l2.5-3 2 2 2.5-3"/>`
	case sb.KindWhatsApp:
		body = `<circle cx="8" cy="8" r="6"/><path d="M6 5.5c0 3 1.5 4.5 4.5 4.5"/>`
	case sb.KindForm:
		body = `<rect x="3" y="1.5" width="10" height="13" rx="1"/><path d="M5.5 5h5M5.5 8h5M5.5 11h3"/>`
	case sb.KindCalling:
		body = `<path d="M3 2.5h3l1 3-1.5 1a8 8 0 0 0 4 4l1-1.5 3 1v3a1 1 0 0 1-1 1A11 11 0 0 1 2 3.5a1 1 0 0 1 1-1z"/>`
	default:
		body = `<circle cx="8" cy="8" r="3"/>`
	}
	return template.HTML(open + body + `</svg>`)
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
