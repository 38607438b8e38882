package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client talks JSON to one Switchboard server: every URL it requests is
// BaseURL joined with an API path, and it follows no redirects.
type client struct {
	base  *url.URL
	http  *http.Client
	token string
}

// newClient returns a client for base with a connection pool big enough for
// conns concurrent requests.
func newClient(base *url.URL, conns int) *client {
	tr := &http.Transport{
		Proxy:               nil, // never through a proxy: only base is ever dialled
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{
		base: base,
		http: &http.Client{
			Transport: tr,
			Timeout:   30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// as returns a client that sends token instead, over the same pool.
func (c *client) as(token string) *client {
	cc := *c
	cc.token = token
	return &cc
}

// close releases the pool's idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// apiError is a non-2xx answer, with the error code of its body when it has
// the API's error shape.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("HTTP %d %s", e.Status, e.Code)
}

// statusOf returns the HTTP status of an *apiError, 0 for other errors.
func statusOf(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// codeOf names err for the report: the API's error code, "http_<status>"
// when the body had none, or "transport" when no answer came.
func codeOf(err error) string {
	var e *apiError
	if errors.As(err, &e) {
		return e.Code
	}
	return "transport"
}

// parseError builds the *apiError of a non-2xx response from its body.
func parseError(status int, body []byte) *apiError {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	e := &apiError{Status: status}
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message = env.Error.Code, env.Error.Message
	} else {
		e.Code = fmt.Sprintf("http_%d", status)
	}
	return e
}

// do sends in (if not nil) as JSON with method to path (an escaped API path
// with an optional query, such as "/api/v1/users/"+url.PathEscape(id)), and
// decodes a 2xx answer into out (if not nil). It
// returns the status, and an *apiError for any non-2xx answer.
func (c *client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	ref, err := url.Parse(path)
	if err != nil || ref.IsAbs() || ref.Host != "" || !strings.HasPrefix(ref.Path, "/") {
		return 0, fmt.Errorf("loadtest: bad API path %q", path)
	}
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + ref.Path
	u.RawPath = strings.TrimSuffix(c.base.EscapedPath(), "/") + ref.EscapedPath()
	u.RawQuery = ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, parseError(resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("loadtest: decoding the answer to %s %s: %w", method, ref.Path, err)
		}
	}
	return resp.StatusCode, nil
}
