package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// TestPostgresFailedUpdatesLeaveNothing: a PostgreSQL Update begins and
// ends its transaction itself (to pipeline), so each way an Update can
// fail must end it: the next Update on the same connection commits only
// its own rows, never the failed one's.
func TestPostgresFailedUpdatesLeaveNothing(t *testing.T) {
	s := open(t, pgtest.DSN(t))
	sqlstore.SetMaxWriteConns(s, 1) // every Update on one connection
	ctx := t.Context()
	var account string
	if err := s.Update(ctx, "", func(tx sb.Tx) error {
		a := &sb.Account{Name: "a"}
		err := tx.CreateAccount(ctx, a)
		account = a.ID
		return err
	}); err != nil {
		t.Fatal(err)
	}
	contact := func(tx sb.Tx, email string) error {
		return tx.CreateContact(ctx, &sb.Contact{AccountID: account, Email: email})
	}
	errFn := errors.New("fn failed")
	cases := []struct {
		name string
		run  func(email string) error
	}{
		{"fn returns an error", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				return errFn
			})
		}},
		{"fn panics", func(email string) (err error) {
			defer func() {
				if recover() != nil {
					err = errFn
				}
			}()
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				panic("fn panics")
			})
		}},
		{"the context ends", func(email string) error {
			cctx, cancel := context.WithCancel(ctx)
			return s.Update(cctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				cancel()
				_, err := tx.Contact(cctx, account, "x") // fails: the context ended
				return err
			})
		}},
		{"a statement dooms it and fn ignores that", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				if err := contact(tx, email); err != nil {
					return err
				}
				_ = contact(tx, "taken@x.test") // a duplicate: doomed
				return nil
			})
		}},
		{"a batch write fails halfway", func(email string) error {
			return s.Update(ctx, account, func(tx sb.Tx) error {
				return tx.WriteBatch(ctx, &sb.BatchWrite{AccountID: account,
					Contacts: []*sb.Contact{{AccountID: account, Email: email}},
					Messages: []*sb.Message{{AccountID: account, ConversationID: "missing", ChannelID: "c"}}})
			})
		}},
	}
	if err := s.Update(ctx, account, func(tx sb.Tx) error { return contact(tx, "taken@x.test") }); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed, next := c.name+"@failed.test", c.name+"@next.test"
			if err := c.run(failed); err == nil {
				t.Fatal("the Update succeeded; want it to fail")
			}
			if err := s.Update(ctx, account, func(tx sb.Tx) error { return contact(tx, next) }); err != nil {
				t.Fatalf("the next Update: %v", err)
			}
			if err := s.View(ctx, func(tx sb.Tx) error {
				got, err := tx.ContactsByKeys(ctx, account, []string{failed, next}, nil, nil)
				if err != nil {
					return err
				}
				if len(got) != 1 || got[0].Email != next {
					t.Errorf("contacts after the failed Update and the next: %d (%v); want only %s", len(got), got, next)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
