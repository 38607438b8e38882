package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	sb "github.com/switchboard-dev/switchboard"
)

// touchEvery throttles R-V2's last-active writes per user.
const touchEvery = 15 * time.Second

// Setup creates the first account and its admin and returns a token for
// them. Conflict once any account exists; Invalid for bad input.
func (s *Service) Setup(ctx context.Context, in SetupInput) (*SetupResult, error) {
	const op = "app.Setup"
	if strings.TrimSpace(in.AccountName) == "" {
		return nil, sb.Invalidf(op, "account_name", "account_name is required")
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil {
		return nil, sb.Invalidf(op, "time_zone", "time_zone %q is not a known IANA time zone (e.g. Europe/Amsterdam)", in.TimeZone)
	}
	u := &sb.User{Email: in.AdminEmail, Name: in.AdminName, Role: sb.RoleAdmin, PaidSeat: true, Status: sb.Available}
	if err := s.prepareNewUser(op, u, in.Password); err != nil {
		return nil, err
	}
	now := s.Now()
	acct := &sb.Account{ID: s.newID(), Name: strings.TrimSpace(in.AccountName), TimeZone: in.TimeZone, CreatedAt: now}
	u.AccountID, u.CreatedAt = acct.ID, now
	var token string
	err := s.update(ctx, "", func(tx sb.Tx) error {
		n, err := tx.CountAccounts(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return sb.E(op, sb.Conflict, "already_set_up", "Switchboard is already set up; sign in with POST /api/v1/tokens instead")
		}
		if err := tx.CreateAccount(ctx, acct); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		token, err = s.issueToken(ctx, tx, u, "setup")
		return err
	})
	if err != nil {
		return nil, sb.Wrap(op, err)
	}
	return &SetupResult{Account: acct, User: u, Token: token}, nil
}

// Login exchanges an email and password for a new token. Unauthenticated
// for a wrong email or password (the same message for both).
func (s *Service) Login(ctx context.Context, in LoginInput) (string, *UserView, error) {
	const op = "app.Login"
	bad := sb.E(op, sb.Unauthenticated, "bad_credentials", "the email or password is not right")
	var u *sb.User
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		u, err = tx.UserByEmail(ctx, normEmail(in.Email))
		return err
	})
	if sb.IsKind(err, sb.NotFound) {
		checkPassword(dummyHash, in.Password) // same work either way
		return "", nil, bad
	}
	if err != nil {
		return "", nil, sb.Wrap(op, err)
	}
	if !checkPassword(u.PasswordHash, in.Password) {
		return "", nil, bad
	}
	var token string
	err = s.update(ctx, u.AccountID, func(tx sb.Tx) error {
		var err error
		token, err = s.issueToken(ctx, tx, u, "login")
		return err
	})
	if err != nil {
		return "", nil, sb.Wrap(op, err)
	}
	return token, s.userView(u), nil
}

// dummyHash keeps Login's timing the same for unknown emails.
var dummyHash, _ = hashPassword(defaultPasswordParams, "not a password")

// Authenticate resolves a bearer token to its actor and records the user as
// active (R-V2). Unauthenticated for an unknown token.
func (s *Service) Authenticate(ctx context.Context, token string) (Actor, error) {
	const op = "app.Authenticate"
	if token == "" {
		return Actor{}, sb.E(op, sb.Unauthenticated, "unauthenticated", "sign in first: send Authorization: Bearer <token>")
	}
	hash := hashToken(token)
	if a, ok := s.tokens.get(hash, s.Now()); ok {
		if !a.IsIntegration() {
			s.touch(ctx, a)
		}
		return a, nil
	}
	var u *sb.User
	var t *sb.Token
	err := s.store.View(ctx, func(tx sb.Tx) error {
		var err error
		if t, err = tx.TokenByHash(ctx, hash); err != nil || t.Scope == sb.TokenIntegration {
			return err
		}
		u, err = tx.User(ctx, t.AccountID, t.UserID)
		return err
	})
	if sb.IsKind(err, sb.NotFound) {
		return Actor{}, sb.E(op, sb.Unauthenticated, "bad_token", "the token is not valid; get a new one with POST /api/v1/tokens")
	}
	if err != nil {
		return Actor{}, sb.Wrap(op, err)
	}
	if t.Scope == sb.TokenIntegration {
		// No user: an integration's requests are nobody's activity (R-V2).
		a := Actor{AccountID: t.AccountID, Role: sb.RoleIntegration}
		s.tokens.put(hash, a, s.Now())
		return a, nil
	}
	a := Actor{AccountID: u.AccountID, UserID: u.ID, Role: u.Role, ManageAvailability: u.ManageAvailability}
	s.tokens.put(hash, a, s.Now())
	s.touch(ctx, a)
	return a, nil
}

// touch records R-V2's "last active in the inbox", at most every touchEvery.
func (s *Service) touch(ctx context.Context, a Actor) {
	now := s.Now()
	s.touchMu.Lock()
	last, ok := s.touched[a.UserID]
	if ok && now.Sub(last) < touchEvery {
		s.touchMu.Unlock()
		return
	}
	s.touched[a.UserID] = now
	s.touchMu.Unlock()
	err := s.update(ctx, a.AccountID, func(tx sb.Tx) error { return tx.TouchUser(ctx, a.AccountID, a.UserID, now) })
	if err != nil {
		s.log.Warn("recording last activity failed", "user_id", a.UserID, "err", err)
	}
}

// Touch records that the actor is active now (R-V2), e.g. for an open live
// connection.
func (s *Service) Touch(ctx context.Context, a Actor) { s.touch(ctx, a) }

// issueToken creates and stores a new random bearer token for u.
func (s *Service) issueToken(ctx context.Context, tx sb.Tx, u *sb.User, name string) (string, error) {
	token, _, err := s.newToken(ctx, tx, u, name, "")
	return token, err
}

// newToken creates and stores a random bearer token of a scope for u.
func (s *Service) newToken(ctx context.Context, tx sb.Tx, u *sb.User, name, scope string) (string, *sb.Token, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token := "sb_" + base64.RawURLEncoding.EncodeToString(raw)
	t := &sb.Token{ID: s.newID(), AccountID: u.AccountID, UserID: u.ID, Hash: hashToken(token), Name: name, Scope: scope, CreatedAt: s.Now()}
	return token, t, tx.CreateToken(ctx, t)
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// tokenCacheTTL is how long a resolved token is trusted without a database
// read. A role change, a revoked token or a sign-out is dropped from every
// process's cache when it commits (Tx.CredentialsChanged); the TTL bounds
// what a missed notification (a listener reconnecting) leaves.
const tokenCacheTTL = 10 * time.Second

// tokenCache remembers resolved tokens briefly, so that a busy integration
// does not pay two reads per request. Keyed by the token's hash.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedActor
}

type cachedActor struct {
	a       Actor
	expires time.Time
}

func (c *tokenCache) get(hash string, now time.Time) (Actor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.After(e.expires) {
		return Actor{}, false
	}
	return e.a, true
}

func (c *tokenCache) put(hash string, a Actor, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedActor{}
	}
	c.m[hash] = cachedActor{a: a, expires: now.Add(tokenCacheTTL)}
}

// drop forgets what a credentials change invalidates (Store.OnCredentialsChanged):
// every token of the user, or the one token.
func (c *tokenCache) drop(ch sb.CredentialsChange) {
	if ch.UserID != "" {
		c.forgetUser(ch.UserID)
	}
	if ch.TokenHash != "" {
		c.forget(ch.TokenHash)
	}
}

// forgetUser drops cached tokens of a user whose role or permissions changed.
func (c *tokenCache) forgetUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.a.UserID == userID {
			delete(c.m, h)
		}
	}
}
