package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the switchboard binary built once by TestMain.
var binary string

// TestMain builds the real binary (with the race detector when the tests
// run with it) so that every test starts it as a subprocess.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, ".")
	build := exec.Command(goTool(), args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building switchboard: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cleanEnv is the test's environment without SWITCHBOARD_ settings, so
// that a developer's own configuration does not leak into the binary.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is how a short-lived command ended.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs the binary to completion (at most timeout).
func runCmd(t *testing.T, timeout time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("running switchboard %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("switchboard %s did not finish in %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), timeout, res.stdout, res.stderr)
	}
	return res
}

// server is one running `switchboard serve` subprocess.
type server struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	URL    string
	exited chan struct{}
	code   int
}

// startServer runs `switchboard serve --db dsn --http 127.0.0.1:0` plus
// extra args, waits until it logs its URL, and kills it when the test ends
// (printing its output if the test failed).
func startServer(t *testing.T, name, dsn string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--db", dsn, "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--log-format", "json"}, extra...)
	s := &server{t: t, name: name, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		err := s.cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			s.code = exit.ExitCode()
		} else if err != nil {
			s.code = -1
		}
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if strings.Contains(s.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("the race detector found a data race in %s", name)
		}
		if t.Failed() {
			t.Logf("---- %s stdout ----\n%s", name, s.stdout.String())
			t.Logf("---- %s stderr ----\n%s", name, s.stderr.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if url := s.logField("switchboard is listening", "url"); url != "" {
			s.URL = url
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("%s exited with code %d before listening\nstderr:\n%s", name, s.code, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not log its URL within 60s", name)
	return nil
}

// logField finds the first JSON log line with msg and returns its field.
func (s *server) logField(msg, field string) string {
	sc := bufio.NewScanner(strings.NewReader(s.stderr.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["msg"] != msg {
			continue
		}
		v, _ := rec[field].(string)
		return v
	}
	return ""
}

// stop sends SIGTERM and waits for the exit code.
func (s *server) stop(timeout time.Duration) int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("signalling %s: %v", s.name, err)
	}
	select {
	case <-s.exited:
		return s.code
	case <-time.After(timeout):
		s.t.Fatalf("%s did not exit within %s of SIGTERM", s.name, timeout)
		return -1
	}
}

// client talks to the API as one user.
type client struct {
	base  string
	token string
	hc    *http.Client
}

var transport = &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}

func newClient(base, token string) *client {
	return &client{base: base, token: token, hc: &http.Client{Transport: transport, Timeout: 60 * time.Second}}
}

// apiError is a response with an unexpected status.
type apiError struct {
	status int
	body   string
}

func (e *apiError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// call sends body as JSON and decodes a 2xx answer into out. It returns
// an *apiError for other statuses. Safe to use from any goroutine.
func (c *client) call(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, &apiError{resp.StatusCode, string(b)}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding %s %s: %w: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// must is call for the test goroutine: any error fails the test.
func (c *client) must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if _, err := c.call(method, path, body, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}
