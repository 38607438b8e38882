// Package apidoc holds Switchboard's OpenAPI 3.1 document: the hand-written
// description of the HTTP API that is served at /api/v1/openapi.json.
//
// The document is the contract of the API's outside shape (see
// /work/shared/spec/API.md): the HTTP package's tests check every response
// they get against it with the apitest package, so a change to a response
// that is not written here too fails them.
//
// openapi.json is the core; each feature (email, chat, tickets, webhooks,
// the simulator …) describes its own endpoints in parts/<feature>.json, a
// document fragment with "paths" and "components" whose entries are merged
// into the core at start-up. A fragment may not redefine a path or a
// component that already exists.
package apidoc

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

//go:embed openapi.json
var core []byte

//go:embed parts
var parts embed.FS

var document = mustMerge()

// JSON returns the OpenAPI 3.1 document as JSON. Each call returns a fresh
// copy, so callers may keep or change it.
func JSON() []byte {
	return append([]byte(nil), document...)
}

func mustMerge() []byte {
	doc, err := merge(core, parts)
	if err != nil {
		panic("apidoc: " + err.Error())
	}
	return doc
}

// merge adds every parts/*.json fragment's paths and components to the core
// document, in file-name order.
func merge(core []byte, fsys fs.FS) ([]byte, error) {
	names, err := fs.Glob(fsys, "parts/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return core, nil
	}
	sort.Strings(names)
	var doc map[string]any
	if err := json.Unmarshal(core, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for key, v := range part {
			switch key {
			case "paths":
				if err := mergeInto(doc, "paths", v, name); err != nil {
					return nil, err
				}
			case "components":
				comps, _ := v.(map[string]any)
				dst, _ := doc["components"].(map[string]any)
				if dst == nil {
					dst = map[string]any{}
					doc["components"] = dst
				}
				for kind, entries := range comps {
					if err := mergeInto(dst, kind, entries, name+": components"); err != nil {
						return nil, err
					}
				}
			case "tags":
				tags, _ := doc["tags"].([]any)
				more, _ := v.([]any)
				doc["tags"] = append(tags, more...)
			default:
				return nil, fmt.Errorf("%s: a fragment may hold only paths, components and tags, not %q", name, key)
			}
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// mergeInto adds the entries of v (an object) to dst[key], refusing
// duplicates.
func mergeInto(dst map[string]any, key string, v any, where string) error {
	src, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %q is not an object", where, key)
	}
	into, _ := dst[key].(map[string]any)
	if into == nil {
		into = map[string]any{}
		dst[key] = into
	}
	for k, e := range src {
		if _, dup := into[k]; dup {
			return fmt.Errorf("%s: %s %q is already defined", where, key, k)
		}
		into[k] = e
	}
	return nil
}
