package sqlstore

// SetMaxParams lowers the parameters a bulk statement of s takes, so that
// tests run bulk calls of a few rows in many chunks. Call it before using s.
func SetMaxParams(s *Store, n int) { s.maxParams = n }

// SetMaxWriteConns limits the connections of s's write pool, so that a
// test's Updates share one.
func SetMaxWriteConns(s *Store, n int) { s.write.SetMaxOpenConns(n) }
