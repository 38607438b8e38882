// Package apidoc holds Switchboard's OpenAPI 3.1 document: the hand-written
// description of the HTTP API that is served at /api/v1/openapi.json.
//
// The document is the contract of the API's outside shape (see
// /work/shared/spec/API.md): the HTTP package's tests check every response
// they get against it with the apitest package, so a change to a response
// that is not written here too fails them.
package apidoc

import _ "embed"

//go:embed openapi.json
var document []byte

// JSON returns the OpenAPI 3.1 document as JSON. Each call returns a fresh
// copy, so callers may keep or change it.
func JSON() []byte {
	return append([]byte(nil), document...)
}
