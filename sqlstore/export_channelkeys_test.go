package sqlstore

import "context"

// ExecRaw runs statements on s's writer connection, for tests of
// migration SQL.
func ExecRaw(ctx context.Context, s *Store, sql string) error {
	_, err := s.write.ExecContext(ctx, sql)
	return err
}
