package widget

import (
	"context"

	sb "github.com/switchboard-dev/switchboard"
)

// transcript is the close hook of R-C4 (completed once the job queue lands).
func (w *Widget) transcript(ctx context.Context, tx sb.Tx, c *sb.Conversation) error {
	return nil
}
