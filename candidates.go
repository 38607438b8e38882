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

// ParseCandidates reads a candidate list in the storage form, or as a
// plain JSON array.
func ParseCandidates(data []byte) (Candidates, error) {
	if len(data) == 0 || data[0] != '{' {
		var cs Candidates
		if len(data) == 0 {
			return nil, nil
		}
		return cs, json.Unmarshal(data, &cs)
	}
	var form struct {
		D []string            `json:"d"`
		C [][]json.RawMessage `json:"c"`
	}
	if err := json.Unmarshal(data, &form); err != nil {
		return nil, err
	}
	cs := make(Candidates, len(form.C))
	for i, row := range form.C {
		if len(row) != 9 {
			return nil, fmt.Errorf("candidate %d: want 9 fields, got %d", i, len(row))
		}
		if err := json.Unmarshal(row[0], &cs[i].UserID); err != nil {
			return nil, err
		}
		var n [8]int64
		for j := range n {
			if err := json.Unmarshal(row[j+1], &n[j]); err != nil {
				return nil, err
			}
		}
		for _, k := range []int64{n[0], n[1], n[2], n[7]} {
			if k < 0 || int(k) >= len(form.D) {
				return nil, fmt.Errorf("candidate %d: word %d out of range", i, k)
			}
		}
		cs[i].Via, cs[i].Status, cs[i].StatusReason = form.D[n[0]], Status(form.D[n[1]]), form.D[n[2]]
		cs[i].Load, cs[i].Capacity = int(n[3]), int(n[4])
		cs[i].LastActiveAt, cs[i].LastAssigned = fromMicros(n[5]), fromMicros(n[6])
		cs[i].Dropped = form.D[n[7]]
	}
	return cs, nil
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
