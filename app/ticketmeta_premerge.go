package app

import (
	"encoding/json"

	sb "github.com/switchboard-dev/switchboard"
)

// TODO(merge): return in.Meta and m.Meta once the core contract lands.
func arrivalMeta(in InboundInput) json.RawMessage { return nil }
func messageMeta(m *sb.Message) json.RawMessage   { return nil }
