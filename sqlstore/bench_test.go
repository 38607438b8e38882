package sqlstore_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	sb "github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/pgtest"
	"github.com/switchboard-dev/switchboard/sqlstore"
)

// BenchmarkBatchInsert{SQLite,Postgres} write what routing a batch of 16
// inbound messages writes, in one Update: 16 conversations, 16 messages,
// 16 decisions of 200 candidates each and 48 events, through the bulk
// methods (a statement per kind of row) and through the one-row methods
// (a statement per row).
func BenchmarkBatchInsertSQLite(b *testing.B) { benchBatchInsert(b, open(b, sqliteDSN(b))) }

func BenchmarkBatchInsertPostgres(b *testing.B) { benchBatchInsert(b, open(b, pgtest.DSN(b))) }

func benchBatchInsert(b *testing.B, s *sqlstore.Store) {
	const arrivals = 16
	ctx := b.Context()
	acct := &sb.Account{Name: "bench"}
	if err := s.Update(ctx, "", func(tx sb.Tx) error { return tx.CreateAccount(ctx, acct) }); err != nil {
		b.Fatal(err)
	}
	a := acct.ID
	in := &sb.Inbox{AccountID: a, Name: "in"}
	ch := &sb.Channel{AccountID: a, Kind: sb.KindChat, Name: "chat"}
	contacts := make([]*sb.Contact, arrivals)
	for i := range contacts {
		contacts[i] = &sb.Contact{AccountID: a, Email: "c" + strconv.Itoa(i) + "@example.com"}
	}
	if err := s.Update(ctx, a, func(tx sb.Tx) error {
		if err := tx.CreateInbox(ctx, in); err != nil {
			return err
		}
		ch.InboxID = in.ID
		if err := tx.CreateChannel(ctx, ch); err != nil {
			return err
		}
		return tx.CreateContacts(ctx, contacts)
	}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	cands := make([]sb.Candidate, 200)
	for i := range cands {
		cands[i] = sb.Candidate{UserID: "01a20150-eaa5-7366-9bef-" + strconv.Itoa(100000000000+i), Via: "team:t1",
			Status: sb.Available, Load: i % 5, Capacity: 5, LastActiveAt: now, LastAssigned: now}
	}
	var seq int
	// batch returns the rows of one batch, new ones each time.
	batch := func() ([]*sb.Conversation, []*sb.Message, []*sb.Decision, []*sb.Event) {
		convs := make([]*sb.Conversation, arrivals)
		msgs := make([]*sb.Message, arrivals)
		decs := make([]*sb.Decision, arrivals)
		events := make([]*sb.Event, 0, 3*arrivals)
		for i := range arrivals {
			seq++
			id := uuid.Must(uuid.NewV7()).String() // the messages and decisions refer to it
			convs[i] = &sb.Conversation{ID: id, AccountID: a, InboxID: in.ID, ChannelID: ch.ID, ChannelKind: ch.Kind,
				ContactID: contacts[i].ID, Status: sb.StatusOpen, AssigneeID: cands[i%len(cands)].UserID, Preview: "hello",
				CreatedAt: now, LastActivityAt: now}
			msgs[i] = &sb.Message{AccountID: a, ConversationID: id, ChannelID: ch.ID, Direction: sb.DirectionIn,
				ContactID: contacts[i].ID, Body: "hello, I need help with my order", ExternalID: "ext-" + strconv.Itoa(seq),
				CreatedAt: now}
			decs[i] = &sb.Decision{AccountID: a, ConversationID: id, Trigger: sb.TriggerCreated, Mode: sb.ModeSpecific,
				Strategy: "least_busy", Candidates: cands, Outcome: sb.OutcomeAssigned, AssigneeID: cands[i%len(cands)].UserID,
				Reason: "least busy", CreatedAt: now}
			data := json.RawMessage(`{"conversation_id":"` + id + `"}`)
			for _, typ := range []string{sb.EventConversationCreated, sb.EventMessageCreated, sb.EventConversationAssigned} {
				events = append(events, &sb.Event{AccountID: a, Type: typ, InboxID: in.ID, ConversationID: id,
					Data: data, CreatedAt: now})
			}
		}
		return convs, msgs, decs, events
	}

	b.Run("bulk", func(b *testing.B) {
		for b.Loop() {
			convs, msgs, decs, events := batch()
			err := s.Update(ctx, a, func(tx sb.Tx) error {
				if err := tx.CreateConversations(ctx, convs); err != nil {
					return err
				}
				if err := tx.CreateMessages(ctx, msgs); err != nil {
					return err
				}
				if err := tx.CreateDecisions(ctx, decs); err != nil {
					return err
				}
				return tx.AppendEvents(ctx, events)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-row", func(b *testing.B) {
		for b.Loop() {
			convs, msgs, decs, events := batch()
			err := s.Update(ctx, a, func(tx sb.Tx) error {
				for i := range convs {
					if err := tx.CreateConversation(ctx, convs[i]); err != nil {
						return err
					}
					if err := tx.CreateMessage(ctx, msgs[i]); err != nil {
						return err
					}
					if err := tx.CreateDecision(ctx, decs[i]); err != nil {
						return err
					}
				}
				for _, e := range events {
					if err := tx.AppendEvent(ctx, e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
