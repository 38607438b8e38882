package switchboard

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Candidates is a decision's candidate list. In the API it is plain JSON;
// stores keep it in the compact form below.
type Candidates []Candidate

// appendJSONString appends s quoted as encoding/json does by default
// (HTML-safe, invalid UTF-8 replaced).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// The storage form of a candidate list. A routing record of a large pool
// repeats the same few strings (via, status, reason, drop) for every
// candidate; the storage form writes each string once in a dictionary and
// each candidate as a short array of dictionary indexes and numbers:
//
//	{"d":["","team:…","available","manual"],
//	 "c":[["<user id>",1,2,3,<load>,<capacity>,<last active µs>,<last assigned µs>,0],…]}
//
// It is about a third of the size of the API's JSON. Stores use it; the
// API shows the expanded form.

// AppendCompact appends the storage form of cs to b ("null" for nil).
// Times keep microseconds, like every time a store keeps.
func (cs Candidates) AppendCompact(b []byte) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	dict := map[string]int{"": 0}
	words := []string{""}
	word := func(s string) int {
		i, ok := dict[s]
		if !ok {
			i = len(words)
			dict[s] = i
			words = append(words, s)
		}
		return i
	}
	body := make([]byte, 0, len(cs)*64)
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, '[')
		body = appendJSONString(body, c.UserID)
		for _, n := range [...]int64{int64(word(c.Via)), int64(word(string(c.Status))), int64(word(c.StatusReason)), int64(c.Load), int64(c.Capacity), micros(c.LastActiveAt), micros(c.LastAssigned), int64(word(c.Dropped))} {
			body = append(body, ',')
			body = strconv.AppendInt(body, n, 10)
		}
		body = append(body, ']')
	}
	b = append(b, `{"d":[`...)
	for i, w := range words {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, w)
	}
	b = append(b, `],"c":[`...)
	b = append(b, body...)
	return append(b, "]}"...)
}

// AppendCompactOver appends the storage form of cs as its changes from
// base: the entries that differ and their positions. The decisions of one
// routing batch weigh the same pool, and each differs from the first only
// where an earlier assignment of the batch changed a load, so a batch
// stores its pool once instead of once per decision. ok is false, and b is
// returned unchanged, when cs is not base's users in base's order or when
// most entries differ; then cs is stored whole.
//
//	{"n":200,"i":[3,17],"d":[…],"c":[[…],[…]]}
func (cs Candidates) AppendCompactOver(b []byte, base Candidates) (_ []byte, ok bool) {
	if len(cs) != len(base) || len(cs) == 0 {
		return b, false
	}
	var at []int
	for i := range cs {
		if cs[i].UserID != base[i].UserID {
			return b, false
		}
		if !sameStored(&cs[i], &base[i]) {
			at = append(at, i)
		}
	}
	if 2*len(at) > len(cs) {
		return b, false
	}
	changed := make(Candidates, len(at))
	for k, i := range at {
		changed[k] = cs[i]
	}
	b = append(b, `{"n":`...)
	b = strconv.AppendInt(b, int64(len(cs)), 10)
	b = append(b, `,"i":[`...)
	for k, i := range at {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(i), 10)
	}
	b = append(b, "],"...)
	compact := changed.AppendCompact(nil)
	return append(b, compact[1:]...), true // compact without its '{'
}

// sameStored reports whether a and b have the same storage form (times
// to the microsecond).
func sameStored(a, b *Candidate) bool {
	return a.UserID == b.UserID && a.Via == b.Via && a.Status == b.Status && a.StatusReason == b.StatusReason &&
		a.Load == b.Load && a.Capacity == b.Capacity && a.Dropped == b.Dropped &&
		micros(a.LastActiveAt) == micros(b.LastActiveAt) && micros(a.LastAssigned) == micros(b.LastAssigned)
}

// IsCompactOver reports whether data is a candidate list stored with
// AppendCompactOver, which ParseCandidatesOver reads with its base.
func IsCompactOver(data []byte) bool {
	return len(data) > 5 && string(data[:5]) == `{"n":`
}

// ParseCandidates reads a candidate list in the storage form, or as a
// plain JSON array. A list stored over a base needs ParseCandidatesOver.
func ParseCandidates(data []byte) (Candidates, error) {
	return ParseCandidatesOver(data, nil)
}

// ParseCandidatesOver reads a candidate list stored whole, or stored with
// AppendCompactOver over base (base's own storage form).
func ParseCandidatesOver(data, base []byte) (Candidates, error) {
	if len(data) == 0 || data[0] != '{' {
		var cs Candidates
		if len(data) == 0 {
			return nil, nil
		}
		return cs, json.Unmarshal(data, &cs)
	}
	var form struct {
		N *int                `json:"n"`
		I []int               `json:"i"`
		D []string            `json:"d"`
		C [][]json.RawMessage `json:"c"`
	}
	if err := json.Unmarshal(data, &form); err != nil {
		return nil, err
	}
	cs := make(Candidates, len(form.C))
	for i, row := range form.C {
		if err := parseCompactRow(&cs[i], row, form.D); err != nil {
			return nil, fmt.Errorf("candidate %d: %w", i, err)
		}
	}
	if form.N == nil {
		return cs, nil
	}
	if len(base) == 0 || IsCompactOver(base) {
		return nil, fmt.Errorf("a candidate list stored over another needs that list")
	}
	all, err := ParseCandidates(base)
	if err != nil {
		return nil, fmt.Errorf("base list: %w", err)
	}
	if len(all) != *form.N || len(form.I) != len(cs) {
		return nil, fmt.Errorf("changes of %d candidates at %d positions over a list of %d, want %d", len(cs), len(form.I), len(all), *form.N)
	}
	for k, i := range form.I {
		if i < 0 || i >= len(all) || all[i].UserID != cs[k].UserID {
			return nil, fmt.Errorf("change %d: position %d does not hold user %q", k, i, cs[k].UserID)
		}
		all[i] = cs[k]
	}
	return all, nil
}

// parseCompactRow reads one candidate of the storage form.
func parseCompactRow(c *Candidate, row []json.RawMessage, words []string) error {
	if len(row) != 9 {
		return fmt.Errorf("want 9 fields, got %d", len(row))
	}
	if err := json.Unmarshal(row[0], &c.UserID); err != nil {
		return err
	}
	var n [8]int64
	for j := range n {
		if err := json.Unmarshal(row[j+1], &n[j]); err != nil {
			return err
		}
	}
	for _, k := range []int64{n[0], n[1], n[2], n[7]} {
		if k < 0 || int(k) >= len(words) {
			return fmt.Errorf("word %d out of range", k)
		}
	}
	c.Via, c.Status, c.StatusReason = words[n[0]], Status(words[n[1]]), words[n[2]]
	c.Load, c.Capacity = int(n[3]), int(n[4])
	c.LastActiveAt, c.LastAssigned = fromMicros(n[5]), fromMicros(n[6])
	c.Dropped = words[n[7]]
	return nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}
