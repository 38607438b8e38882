package switchboard

import (
	"context"
	"time"
)

// Store keeps everything durable. It is dumb on purpose: business rules
// live in package app, once; a Store only reads and writes rows, always
// scoped to one account.
//
// Errors: NotFound when a row does not exist in the given account (never
// (nil, nil)), Conflict on a uniqueness violation, Unavailable when the
// database cannot be reached, Internal otherwise.
type Store interface {
	// Update runs fn in a read-write transaction that first takes the
	// account's routing lock, so that routing decisions and load changes of
	// one account are serialised across goroutines and processes (R-X7).
	// accountID may be empty for account-less writes (setup), which then
	// serialise with each other. If fn returns an error the transaction is
	// rolled back. Events appended in the transaction are published to
	// subscribers after commit, on every process.
	Update(ctx context.Context, accountID string, fn func(Tx) error) error
	// UpdateBatch is Update for a routing batch: once it holds the lock,
	// and before fn runs, it fills in r's lookups. On PostgreSQL they travel
	// with BEGIN and the lock in one round trip.
	UpdateBatch(ctx context.Context, accountID string, r *BatchRead, fn func(Tx) error) error
	// View runs fn in a read-only transaction (a consistent snapshot).
	View(ctx context.Context, fn func(Tx) error) error
	// Subscribe delivers every event committed from now on in the given
	// account (on any process sharing the database) until ctx ends. The
	// channel is closed then. A slow subscriber loses events rather than
	// blocking others; it is then sent an EventGap whose ID is where to
	// catch up from with Tx.EventsSince.
	Subscribe(ctx context.Context, accountID string) <-chan Event
	// OnCredentialsChanged registers fn: once a transaction that called
	// Tx.CredentialsChanged commits, fn gets each change on every process
	// sharing the database, this one at once and the others as soon as the
	// change reaches them (PostgreSQL: a notification), so that caches of
	// resolved tokens drop what no longer holds.
	OnCredentialsChanged(fn func(CredentialsChange))
	// Dialect names the database: "sqlite" or "postgres".
	Dialect() string
	Close() error
}

// ConversationFilter selects conversations for a view (R-M5), newest
// activity first.
type ConversationFilter struct {
	AccountID string
	Status    string // StatusOpen, StatusClosed or "" for both
	// Unassigned keeps only conversations with neither assignee nor team.
	Unassigned bool
	AssigneeID string   // only those assigned to this user
	InboxID    string   // only this inbox
	InboxIDs   []string // only these inboxes (R-I4); nil means no limit
	// TeamID with TeamMemberIDs: assigned to the team or to one of its members.
	TeamID        string
	TeamMemberIDs []string
	// Cursor: continue after this position (exclusive).
	AfterActivity time.Time
	AfterID       string
	// Limit bounds the page: default 50, at most MaxConversationsLimit.
	Limit int
}

// MaxConversationsLimit is the largest page Conversations and
// WaitingConversations return: above the API's largest page plus the one
// row that tells whether another page follows, and the backlog drain's scan.
const MaxConversationsLimit = 1000

// ExternalKey identifies an inbound message by its channel's external id.
type ExternalKey struct {
	ChannelID  string
	ExternalID string
}

// ContactChannel identifies a contact's thread on one channel.
type ContactChannel struct {
	ContactID string
	ChannelID string
}

// LoadDelta changes one user's open chat-like count; a non-zero
// AssignedAt also sets their LastChatAssignedAt.
type LoadDelta struct {
	UserID     string
	Delta      int
	AssignedAt time.Time
}

// CredentialsChange names what a cache of resolved tokens must drop: every
// token of a user (whose role or permissions changed), or one token, by
// its hash (revoked, signed out).
type CredentialsChange struct {
	UserID    string `json:"user_id,omitempty"`
	TokenHash string `json:"token_hash,omitempty"`
}

// BatchRead is what a routing batch looks up before it routes
// (Store.UpdateBatch): the store sets Delivered to
// Tx.MessagesByExternalIDs(Keys) and Contacts to Tx.ContactsByKeys(Emails,
// Tokens, Phones), within the batch's transaction.
type BatchRead struct {
	Keys                   []ExternalKey
	Emails, Tokens, Phones []string

	Delivered []*Message
	Contacts  []*Contact
}

// BatchWrite is what a routing batch adds (Tx.WriteBatch).
type BatchWrite struct {
	AccountID     string // of Loads
	Contacts      []*Contact
	Conversations []*Conversation
	Messages      []*Message
	Decisions     []*Decision
	Loads         []LoadDelta
	Events        []*Event
}

// Tx is one transaction. Every method is scoped to an account and never
// returns rows of another.
type Tx interface {
	JobTx
	WebTx
	RoutingTx
	TicketsTx
	WebhooksTx
	ChannelKeysTx
	EmailTx
	// Version is the account's write version as this Update saw it when it
	// took the account's lock: every Update of the account, on any process,
	// increments it. A cache filled in an Update that saw v is therefore
	// current in a later Update that sees v+1. 0 (a View, an account being
	// created): unknown.
	Version() int64
	// CredentialsChanged queues c for the OnCredentialsChanged hooks of
	// every process, delivered if and when the transaction commits.
	CredentialsChanged(c CredentialsChange)
	CountAccounts(ctx context.Context) (int, error)
	CreateAccount(ctx context.Context, a *Account) error
	Account(ctx context.Context, id string) (*Account, error)
	// Accounts lists every account, oldest first (for background work).
	Accounts(ctx context.Context) ([]*Account, error)

	CreateUser(ctx context.Context, u *User) error
	// UpdateUser writes every field but the load fields (OpenChats,
	// LastChatAssignedAt) and LastActiveAt, which have their own methods.
	UpdateUser(ctx context.Context, u *User) error
	User(ctx context.Context, accountID, id string) (*User, error)
	// UserByEmail finds a user by email across accounts (emails are unique
	// in the whole installation: they sign in with it).
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context, accountID string) ([]*User, error)
	// AddLoad adds delta to the user's open chat-like count; a non-zero
	// assignedAt also sets LastChatAssignedAt.
	AddLoad(ctx context.Context, accountID, userID string, delta int, assignedAt time.Time) error
	// TouchUser sets LastActiveAt (R-V2).
	TouchUser(ctx context.Context, accountID, userID string, at time.Time) error

	CreateToken(ctx context.Context, t *Token) error
	TokenByHash(ctx context.Context, hash string) (*Token, error)
	// TokensByScope lists the account's tokens of a scope, oldest first.
	TokensByScope(ctx context.Context, accountID, scope string) ([]*Token, error)
	// DeleteTokenByID removes the account's token of this scope and id;
	// NotFound if there is none.
	DeleteTokenByID(ctx context.Context, accountID, id, scope string) error

	CreateTeam(ctx context.Context, t *Team) error
	UpdateTeam(ctx context.Context, t *Team) error
	DeleteTeam(ctx context.Context, accountID, id string) error
	Team(ctx context.Context, accountID, id string) (*Team, error)
	Teams(ctx context.Context, accountID string) ([]*Team, error)

	CreateInbox(ctx context.Context, in *Inbox) error
	UpdateInbox(ctx context.Context, in *Inbox) error
	Inbox(ctx context.Context, accountID, id string) (*Inbox, error)
	Inboxes(ctx context.Context, accountID string) ([]*Inbox, error)

	CreateChannel(ctx context.Context, c *Channel) error
	UpdateChannel(ctx context.Context, c *Channel) error
	DeleteChannel(ctx context.Context, accountID, id string) error
	Channel(ctx context.Context, accountID, id string) (*Channel, error)
	// ChannelByID finds a channel without knowing its account, for the
	// public entry points (widget, forms, webhooks) that only carry its id.
	ChannelByID(ctx context.Context, id string) (*Channel, error)
	// Channels lists an account's channels; a non-empty inboxID limits them
	// to that inbox.
	Channels(ctx context.Context, accountID, inboxID string) ([]*Channel, error)

	CreateContact(ctx context.Context, c *Contact) error
	UpdateContact(ctx context.Context, c *Contact) error
	Contact(ctx context.Context, accountID, id string) (*Contact, error)
	// ContactByEmail matches case-insensitively (emails are stored lower-case).
	ContactByEmail(ctx context.Context, accountID, email string) (*Contact, error)
	ContactByVisitorToken(ctx context.Context, accountID, token string) (*Contact, error)
	ContactByPhone(ctx context.Context, accountID, phone string) (*Contact, error)
	// Contacts pages by id ascending, after afterID.
	Contacts(ctx context.Context, accountID, afterID string, limit int) ([]*Contact, error)

	CreateConversation(ctx context.Context, c *Conversation) error
	// UpdateConversation writes status, assignee, team, ticket, waiting,
	// subject, preview, last activity and closed-at.
	UpdateConversation(ctx context.Context, c *Conversation) error
	Conversation(ctx context.Context, accountID, id string) (*Conversation, error)
	Conversations(ctx context.Context, f ConversationFilter) ([]*Conversation, error)
	// LatestConversation returns the contact's most recent conversation on
	// the channel, open or closed (R-A11, R-X4).
	LatestConversation(ctx context.Context, accountID, contactID, channelID string) (*Conversation, error)
	// WaitingConversations returns open conversations with Waiting set,
	// oldest first (R-X2).
	WaitingConversations(ctx context.Context, accountID string, limit int) ([]*Conversation, error)

	CreateMessage(ctx context.Context, m *Message) error
	// Message returns the account's message with this id.
	Message(ctx context.Context, accountID, id string) (*Message, error)
	// SetMessageDelivery records an outgoing message's delivery state; a
	// non-empty externalID (the platform's id for it) replaces the stored one.
	SetMessageDelivery(ctx context.Context, accountID, id, delivery, detail, externalID string) error
	// Messages returns the thread oldest first.
	Messages(ctx context.Context, accountID, conversationID string) ([]*Message, error)
	// MessageByExternalID finds an inbound message by the channel's
	// external id, for idempotent entry points.
	MessageByExternalID(ctx context.Context, accountID, channelID, externalID string) (*Message, error)

	CreateDecision(ctx context.Context, d *Decision) error
	// Decisions returns a conversation's routing records, oldest first.
	Decisions(ctx context.Context, accountID, conversationID string) ([]*Decision, error)

	// Bulk reads and writes for the routing batch: each is a constant
	// number of statements whatever the number of rows, so that routing N
	// arrivals in one transaction costs a few round trips, not N times a
	// few (see docs/ARCHITECTURE.md). Empty inputs do nothing. The lookups
	// return the rows found, in no particular order; missing keys are
	// simply absent (never NotFound).

	// ContactsByKeys returns the account's contacts having any of the
	// emails (lower-case), visitor tokens or phones. Empty strings match
	// nothing.
	ContactsByKeys(ctx context.Context, accountID string, emails, tokens, phones []string) ([]*Contact, error)
	// MessagesByExternalIDs returns the account's messages with these
	// (channel, external id) keys.
	MessagesByExternalIDs(ctx context.Context, accountID string, keys []ExternalKey) ([]*Message, error)
	// LatestConversations returns, for each (contact, channel) key, the
	// contact's most recent conversation on that channel, if any.
	LatestConversations(ctx context.Context, accountID string, keys []ContactChannel) ([]*Conversation, error)
	// ConversationsByIDs returns the account's conversations with these ids.
	ConversationsByIDs(ctx context.Context, accountID string, ids []string) ([]*Conversation, error)
	// CreateContacts, CreateConversations, CreateMessages, CreateDecisions
	// insert rows like their one-row twins (ids generated if empty);
	// Conflict if any row violates a uniqueness rule (then nothing of the
	// call is written and the transaction is doomed).
	CreateContacts(ctx context.Context, cs []*Contact) error
	CreateConversations(ctx context.Context, cs []*Conversation) error
	CreateMessages(ctx context.Context, ms []*Message) error
	CreateDecisions(ctx context.Context, ds []*Decision) error
	// UpdateConversations writes the same fields as UpdateConversation for
	// every row; NotFound if one does not exist in its account.
	UpdateConversations(ctx context.Context, cs []*Conversation) error
	// AddLoads applies the deltas (one user may appear once).
	AddLoads(ctx context.Context, accountID string, ds []LoadDelta) error
	// AppendEvents stores the events in order, sets their IDs and queues
	// them for publication after commit, like AppendEvent.
	AppendEvents(ctx context.Context, es []*Event) error
	// WriteBatch is CreateContacts, CreateConversations, CreateMessages,
	// CreateDecisions, AddLoads and AppendEvents of b's rows, in this
	// order, stopping at the first error, which it returns as that method
	// would. PostgreSQL receives all of it in one round trip.
	WriteBatch(ctx context.Context, b *BatchWrite) error
	// CommitBatch is WriteBatch as the transaction's last work: the store
	// may hold the writes back and send them with the commit (PostgreSQL:
	// one round trip for both). Their failure is then Update's error, and
	// the ids they assign are set once Update returns. A statement after
	// it sends them first.
	CommitBatch(ctx context.Context, b *BatchWrite) error

	// AppendEvent stores e, sets its ID, and queues it for publication
	// after commit.
	AppendEvent(ctx context.Context, e *Event) error
	// EventsSince returns the account's events with ID > afterID, oldest first.
	EventsSince(ctx context.Context, accountID string, afterID int64, limit int) ([]*Event, error)
}
