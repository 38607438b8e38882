package app

import (
	"encoding/json"
	"testing"
)

func TestSecretsAreWriteOnly(t *testing.T) {
	stored := json.RawMessage(`{"page_id":"1","page_access_token":"EAA1","app_secret":"s1","smtp_password":"p","greeting":"hi"}`)
	shown := redactConfig(stored)
	var got map[string]string
	if err := json.Unmarshal(shown, &got); err != nil {
		t.Fatal(err)
	}
	if got["page_access_token"] != SecretMask || got["app_secret"] != SecretMask || got["smtp_password"] != SecretMask || got["greeting"] != "hi" || got["page_id"] != "1" {
		t.Errorf("redacted = %s", shown)
	}
	// Left out or sent back masked: kept. Explicitly emptied: cleared. Changed: replaced.
	next := keepSecrets(stored, json.RawMessage(`{"page_id":"1","app_secret":"********","smtp_password":"","greeting":"hello","page_access_token":"EAA2"}`))
	if err := json.Unmarshal(next, &got); err != nil {
		t.Fatal(err)
	}
	if got["app_secret"] != "s1" || got["smtp_password"] != "" || got["page_access_token"] != "EAA2" || got["greeting"] != "hello" {
		t.Errorf("kept = %s", next)
	}
	next = keepSecrets(stored, json.RawMessage(`{"greeting":"x"}`))
	if err := json.Unmarshal(next, &got); err != nil || got["page_access_token"] != "EAA1" {
		t.Errorf("a config without the token lost it: %s", next)
	}
	if string(redactConfig(json.RawMessage(`{"token":""}`))) != `{"token":""}` {
		t.Error("an empty secret is shown as empty, not masked")
	}
}
