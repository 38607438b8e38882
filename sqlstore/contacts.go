package sqlstore

import (
	"context"
	"strings"

	sb "github.com/switchboard-dev/switchboard"
)

// Contacts page sizes.
const (
	contactsDefaultLimit = 50
	contactsMaxLimit     = 500
)

const contactColumns = `id, account_id, email, name, phone, owner_id, visitor_token, created_at`

var (
	mCreateContact = newInsert("create_contact", "contacts", contactColumns, "")
	qUpdateContact = newQuery("update_contact", `UPDATE contacts SET email = $3, name = $4,
		phone = $5, owner_id = $6, visitor_token = $7 WHERE account_id = $1 AND id = $2`)
	qContact = newQuery("contact",
		`SELECT `+contactColumns+` FROM contacts WHERE account_id = $1 AND id = $2`)
	// The "<> ''" terms repeat the partial unique indexes' conditions, so
	// that SQLite's planner (which cannot see through a bound parameter)
	// uses them instead of scanning.
	qContactByEmail = newQuery("contact_by_email", `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = $1 AND email = $2 AND email <> ''`)
	qContactByVisitorToken = newQuery("contact_by_visitor_token", `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = $1 AND visitor_token = $2 AND visitor_token <> ''`)
	// Phones are not unique: the oldest contact with the number wins.
	qContactByPhone = newQuery("contact_by_phone", `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = $1 AND phone = $2 ORDER BY created_at, id LIMIT 1`)
	qContacts = newQuery("contacts", `SELECT `+contactColumns+` FROM contacts
		WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3`)
	// UNION ALL rather than OR or UNION: each branch then probes its own
	// index on SQLite (a UNION would sort by id and scan the account).
	// ContactsByKeys drops the duplicates.
	qContactsByKeys = newDialectQuery("contacts_by_keys",
		contactsByKeysSQL(sqliteInKeys), contactsByKeysSQL(pgInKeys))
)

// contactsByKeysSQL selects the account's ($1) contacts by emails ($2),
// visitor tokens ($3) and phones ($4), with in testing a column against a
// key list.
func contactsByKeysSQL(in func(col string, p int) string) string {
	sel := `SELECT ` + contactColumns + ` FROM contacts WHERE account_id = $1 AND `
	return sel + in("email", 2) + ` AND email <> ''
		UNION ALL ` + sel + in("visitor_token", 3) + ` AND visitor_token <> ''
		UNION ALL ` + sel + in("phone", 4) + ` AND phone <> ''`
}

// contactWhat names a contact in errors: creating or updating one can
// only conflict on its email or visitor token.
const contactWhat = "contact with this email or visitor token"

// CreateContact inserts c, generating its ID if empty and storing its
// email lower-case (c is updated to match). Conflict if another contact of
// the account has the same non-empty email or visitor token; NotFound if
// the account does not exist.
func (t *tx) CreateContact(ctx context.Context, c *sb.Contact) error {
	return t.createContacts(ctx, "sqlstore.CreateContact", []*sb.Contact{c})
}

// CreateContacts inserts cs as CreateContact does, in one statement per
// chunk: Conflict also when two of them share an email or visitor token.
// Nothing is written if a row fails.
func (t *tx) CreateContacts(ctx context.Context, cs []*sb.Contact) error {
	return t.createContacts(ctx, "sqlstore.CreateContacts", cs)
}

func (t *tx) createContacts(ctx context.Context, op string, cs []*sb.Contact) error {
	w, err := t.contactsWrite(op, cs)
	if err != nil {
		return err
	}
	return t.run(ctx, w)
}

func (t *tx) contactsWrite(op string, cs []*sb.Contact) (*write, error) {
	ids, err := newIDs(len(cs), func(i int) string { return cs[i].ID })
	if err != nil {
		return nil, t.classify(op, err, contactWhat)
	}
	return &write{m: mCreateContact, n: len(cs),
		row: func(args []any, i int) ([]any, error) {
			c := cs[i]
			return append(args, ids[i], c.AccountID, strings.ToLower(c.Email), c.Name, c.Phone, c.OwnerID,
				c.VisitorToken, micros(c.CreatedAt)), nil
		},
		fail: func(err error) error { return t.classifyConflict(op, err, "contact", contactWhat) },
		done: func(int64, []int64) error {
			for i, c := range cs {
				c.ID, c.Email = ids[i], strings.ToLower(c.Email)
			}
			return nil
		}}, nil
}

// UpdateContact writes email, name, phone, owner and visitor token.
// NotFound if the contact is not in c.AccountID; Conflict as CreateContact.
func (t *tx) UpdateContact(ctx context.Context, c *sb.Contact) error {
	const op = "sqlstore.UpdateContact"
	email := strings.ToLower(c.Email)
	res, err := t.exec(ctx, qUpdateContact, c.AccountID, c.ID, email, c.Name, c.Phone, c.OwnerID, c.VisitorToken)
	if err != nil {
		return t.classifyConflict(op, err, "contact", contactWhat)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return firstErr(t.classify(op, err, "contact"), notFound(op, "contact"))
	}
	c.Email = email
	return nil
}

// Contact returns the account's contact with id; NotFound otherwise.
func (t *tx) Contact(ctx context.Context, accountID, id string) (*sb.Contact, error) {
	return one(ctx, t, "sqlstore.Contact", "contact", scanContact, qContact, accountID, id)
}

// ContactByEmail finds the account's contact by email, case-insensitively;
// NotFound otherwise (always for an empty email).
func (t *tx) ContactByEmail(ctx context.Context, accountID, email string) (*sb.Contact, error) {
	const op, what = "sqlstore.ContactByEmail", "contact with this email"
	if email == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanContact, qContactByEmail, accountID, strings.ToLower(email))
}

// ContactByVisitorToken finds the account's contact by the chat widget's
// visitor token; NotFound otherwise (always for an empty token).
func (t *tx) ContactByVisitorToken(ctx context.Context, accountID, token string) (*sb.Contact, error) {
	const op, what = "sqlstore.ContactByVisitorToken", "contact with this visitor token"
	if token == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanContact, qContactByVisitorToken, accountID, token)
}

// ContactByPhone finds the account's oldest contact with this phone
// number, compared exactly as stored; NotFound otherwise (always for an
// empty phone).
func (t *tx) ContactByPhone(ctx context.Context, accountID, phone string) (*sb.Contact, error) {
	const op, what = "sqlstore.ContactByPhone", "contact with this phone number"
	if phone == "" {
		return nil, notFound(op, what)
	}
	return one(ctx, t, op, what, scanContact, qContactByPhone, accountID, phone)
}

// Contacts pages through the account's contacts by id ascending, starting
// after afterID ("" for the first page). limit <= 0 means 50; at most 500
// are returned.
func (t *tx) Contacts(ctx context.Context, accountID, afterID string, n int) ([]*sb.Contact, error) {
	return list(ctx, t, "sqlstore.Contacts", "contacts", scanContact, qContacts,
		accountID, afterID, limit(n, contactsDefaultLimit, contactsMaxLimit))
}

// ContactsByKeys returns the account's contacts having any of the emails
// (compared case-insensitively), visitor tokens or phones, each once, in
// no particular order. Empty keys match nothing. Every contact with one of
// the phones is returned (ContactByPhone picks the oldest).
func (t *tx) ContactsByKeys(ctx context.Context, accountID string, emails, tokens, phones []string) ([]*sb.Contact, error) {
	const op, what = "sqlstore.ContactsByKeys", "contacts"
	args, err := t.contactsByKeysArgs(accountID, emails, tokens, phones)
	if err != nil {
		return nil, t.classify(op, err, what)
	}
	if args == nil {
		return []*sb.Contact{}, nil
	}
	cs, err := list(ctx, t, op, what, scanContact, qContactsByKeys.of(t), args...)
	if err != nil {
		return nil, err
	}
	return uniqueContacts(cs), nil
}

// contactsByKeysArgs returns qContactsByKeys' arguments, or nil if no key
// can match.
func (t *tx) contactsByKeysArgs(accountID string, emails, tokens, phones []string) ([]any, error) {
	emails = nonEmpty(emails, strings.ToLower)
	tokens, phones = nonEmpty(tokens, same), nonEmpty(phones, same)
	if len(emails)+len(tokens)+len(phones) == 0 {
		return nil, nil
	}
	args := []any{accountID}
	for _, keys := range [][]string{emails, tokens, phones} {
		l, err := t.keyList(keys)
		if err != nil {
			return nil, err
		}
		args = append(args, l)
	}
	return args, nil
}

// uniqueContacts drops the contacts found by more than one key.
func uniqueContacts(cs []*sb.Contact) []*sb.Contact {
	return uniqueByID(cs, func(c *sb.Contact) string { return c.ID })
}

// same is the identity, for nonEmpty.
func same(s string) string { return s }

func scanContact(r scanner) (*sb.Contact, error) {
	var c sb.Contact
	var created int64
	if err := r.Scan(&c.ID, &c.AccountID, &c.Email, &c.Name, &c.Phone, &c.OwnerID, &c.VisitorToken, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}
