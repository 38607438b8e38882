// Package apitest checks real HTTP responses against Switchboard's OpenAPI
// document (package apidoc), for the tests of the HTTP API.
//
// A test makes a request, reads the whole body, and hands all three to
// Validator.Check, which fails the test when the document has no operation
// for the request, does not list the response's status for it, or describes
// a different content type or body:
//
//	v := apitest.NewValidator(t)
//	resp, err := srv.Client().Do(req)
//	...
//	body, _ := io.ReadAll(resp.Body)
//	v.Check(t, req, resp, body)
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/switchboard-dev/switchboard/apidoc"
)

// Validator checks responses against the OpenAPI document. It is safe for
// concurrent use by parallel tests.
type Validator struct {
	router routers.Router
}

// load parses, validates and indexes the document once per test binary.
var load = sync.OnceValues(func() (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apidoc.JSON())
	if err != nil {
		return nil, fmt.Errorf("apitest: loading the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("apitest: the OpenAPI document is invalid: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apitest: routing the OpenAPI document: %w", err)
	}
	return &Validator{router: router}, nil
})

// NewValidator returns a Validator for apidoc's document. It fails the test
// at once if the document does not load or is not valid OpenAPI 3.1.
func NewValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := load()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Check fails t (with Errorf, so the test goes on) unless resp, the answer to
// req, is one the document allows: req's method and path match an operation,
// resp's status is listed for it, and, when that response has content, the
// Content-Type is one of its media types and body (resp's whole body, already
// read) matches the schema; when it has none, body must be empty.
//
// req may be nil to use resp.Request. Only the request's method and URL
// path are read; its body is not needed.
func (v *Validator) Check(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if err := v.check(req, resp, body); err != nil {
		t.Errorf("%v\nbody: %s", err, clip(body, 2000))
	}
}

// check is Check's error-returning core.
func (v *Validator) check(req *http.Request, resp *http.Response, body []byte) error {
	if resp == nil {
		return fmt.Errorf("apitest: no response")
	}
	if req == nil {
		req = resp.Request
	}
	if req == nil {
		return fmt.Errorf("apitest: no request for the %d response", resp.StatusCode)
	}
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)

	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s: the OpenAPI document has no such operation: %v", what, err)
	}
	// The request body was sent already; validating the response only needs
	// the method and URL.
	sent := req.Clone(context.Background())
	sent.Body, sent.GetBody = http.NoBody, nil

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    sent,
			PathParams: params,
			Route:      route,
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s (operation %s): %v", what, route.Operation.OperationID, err)
	}

	// ValidateResponse accepts any body where the document declares none
	// (204 No Content, for one).
	if ref := route.Operation.Responses.Status(resp.StatusCode); ref != nil && ref.Value != nil &&
		len(ref.Value.Content) == 0 && len(bytes.TrimSpace(body)) > 0 {
		return fmt.Errorf("%s (operation %s): the document declares no body for this status, got %d bytes",
			what, route.Operation.OperationID, len(body))
	}
	return nil
}

// clip shortens b for an error message.
func clip(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], "…"...)
}

// ReadBody reads and closes resp's body and returns it, failing t if that
// does not work. It is a convenience for callers of Check.
func ReadBody(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("apitest: reading the response body: %v", err)
	}
	return b
}
