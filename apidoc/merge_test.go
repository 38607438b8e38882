package apidoc

import (
	"encoding/json"
	"testing"
	"testing/fstest"
)

func TestMergeAddsFragmentsAndRefusesDuplicates(t *testing.T) {
	core := []byte(`{"openapi":"3.1.0","paths":{"/a":{}},"components":{"schemas":{"A":{}}}}`)
	fsys := fstest.MapFS{"parts/x.json": {Data: []byte(`{"paths":{"/b":{}},"components":{"schemas":{"B":{}}}}`)}}
	got, err := merge(core, fsys)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) != 2 || doc.Paths["/b"] == nil || len(doc.Components.Schemas) != 2 || doc.Components.Schemas["B"] == nil {
		t.Fatalf("merged document = %s", got)
	}
	for name, part := range map[string]string{
		"duplicate path":   `{"paths":{"/a":{}}}`,
		"duplicate schema": `{"components":{"schemas":{"A":{}}}}`,
		"unknown key":      `{"info":{}}`,
		"not json":         `{`,
	} {
		if _, err := merge(core, fstest.MapFS{"parts/y.json": {Data: []byte(part)}}); err == nil {
			t.Errorf("%s: merge accepted %s", name, part)
		}
	}
}
