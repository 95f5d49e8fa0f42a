package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"strings"
	"time"
)

// EventType is an event's type name, e.g. "task.completed". Types outside the catalogue verify fine.
type EventType string

// The core's event catalogue, as declared here; a test compares it with EventTypes().
const (
	EventTaskCompleted                EventType = "task.completed"
	EventTaskFailed                   EventType = "task.failed"
	EventTaskCancelled                EventType = "task.cancelled"
	EventTaskHealed                   EventType = "task.healed"
	EventSessionCompleted             EventType = "session.completed"
	EventSessionFailed                EventType = "session.failed"
	EventSessionRecordingReady        EventType = "session.recording.ready"
	EventSessionReady                 EventType = "session.ready"
	EventBatchCompleted               EventType = "batch.completed"
	EventBatchFailed                  EventType = "batch.failed"
	EventInterventionRequested        EventType = "intervention.requested"
	EventInterventionResolved         EventType = "intervention.resolved"
	EventIdentityAuthenticated        EventType = "identity.authenticated"
	EventIdentityAuthenticationFailed EventType = "identity.authentication_failed"
	EventExtractionCompleted          EventType = "extraction.completed"
	EventExtractionFailed             EventType = "extraction.failed"
)

// knownEventTypes lists the constants above, for the drift test.
var knownEventTypes = []EventType{
	EventTaskCompleted, EventTaskFailed, EventTaskCancelled, EventTaskHealed, EventSessionCompleted,
	EventSessionFailed, EventSessionRecordingReady, EventSessionReady, EventBatchCompleted, EventBatchFailed,
	EventInterventionRequested, EventInterventionResolved, EventIdentityAuthenticated,
	EventIdentityAuthenticationFailed, EventExtractionCompleted, EventExtractionFailed,
}

// catalogue maps each constant above to itself, so a verified event of a catalogue type carries the
// constant's string rather than a copy.
var catalogue = func() map[EventType]EventType {
	known := make(map[EventType]EventType, len(knownEventTypes))
	for _, eventType := range knownEventTypes {
		known[eventType] = eventType
	}
	return known
}()

// EventTypes returns the core's event catalogue, in order.
func EventTypes() []EventType {
	n := int(C.anchor_event_types_count())
	types := make([]EventType, 0, n)
	for i := 0; i < n; i++ {
		var name C.anchor_bytes
		if C.anchor_event_types_get(C.size_t(i), &name) != C.ANCHOR_RESULT_OK {
			panic("anchor_event_types_get failed inside the catalogue's range")
		}
		types = append(types, EventType(viewString(name)))
	}
	return types
}

// copiedTogether returns copies of parts, in order, that share one allocation of exactly their total size.
func copiedTogether(parts ...string) []string {
	size := 0
	for _, part := range parts {
		size += len(part)
	}
	var joined strings.Builder
	joined.Grow(size)
	for _, part := range parts {
		joined.WriteString(part)
	}
	rest := joined.String()
	for i, part := range parts {
		parts[i], rest = rest[:len(part)], rest[len(part):]
	}
	return parts
}

// Event is a verified delivery.
//
// What its fields share: the string fields (ID, Type, ProjectID, Text, DeliveryID) are copies of their own
// size, so keeping them (an ID in a map, say) keeps nothing else alive. Data is a view of a buffer of about
// the body's size (the body plus the headers, where the library copied the event's fields); Body is the
// body itself. Keeping either keeps that much memory; copy Data (bytes.Clone) to keep it without the rest.
type Event struct {
	// ID is the event id and dedupe key: the envelope's id (Anchor) or the webhook-id header (Standard
	// Webhooks). The same logical event keeps it across retries.
	ID string
	// Type is the envelope's type (Anchor); for Standard Webhooks the body's "type" or "event" field, or "".
	Type EventType
	// Created is when the provider created the event, in UTC; HasCreated is false (and Created the zero
	// time) when the body has no creation time. A real creation time of 0001-01-01T00:00:00Z equals the
	// zero time, so test HasCreated rather than Created.IsZero().
	Created    time.Time
	HasCreated bool
	// ProjectID and Text are the envelope's optional fields ("" when absent). Text is presentation only.
	ProjectID string
	Text      string
	// Data is the JSON of the envelope's "data", exactly as signed ("null" when a Standard Webhooks body
	// has none). Decode it with DecodeData or json.Unmarshal. It is a view of a buffer of about the body's
	// size, not a copy of its own size: do not write to it; bytes.Clone it to keep it for long.
	Data json.RawMessage
	// Body is the verified body: the slice given to Verify or Receive (not a copy), or the request body
	// read by VerifyRequest / Middleware.
	Body []byte
	// MatchedSecret is the index of the first configured secret that matched (watch it during a rotation).
	MatchedSecret int
	// Timestamp is the signed timestamp, unix seconds.
	Timestamp int64
	// DeliveryID is Anchor-Delivery-Id ("" when absent), which is not signed: a replay can carry any value, so
	// it is for logs, never for dedupe (ID is the key). For Standard Webhooks it is webhook-id, which is signed.
	DeliveryID string
}

// DecodeData decodes Data into v with encoding/json.
func (e *Event) DecodeData(v any) error {
	return json.Unmarshal(e.Data, v)
}

// eventFrom builds an Event from the fields the shim copied into out.
func eventFrom(out []byte, res *C.go_result, body []byte) *Event {
	if res.overflow {
		panic("anchor-webhooks: the event's fields did not fit the buffer sized for them (a binding bug)")
	}
	// The short fields are copies, not views of out (sized by the body): a kept ID must not keep the
	// delivery's whole buffer alive. ID, Type, ProjectID and DeliveryID share one allocation of exactly their
	// size (a catalogue type is the package's constant, no copy); Text, free text of any length, is its own.
	eventType, isKnown := catalogue[EventType(text(out, res._type))]
	unknownType := ""
	if !isKnown {
		unknownType = text(out, res._type)
	}
	fields := copiedTogether(text(out, res.id), text(out, res.project_id), text(out, res.delivery_id), unknownType)
	if !isKnown {
		eventType = EventType(fields[3])
	}
	event := &Event{
		ID:        fields[0],
		Type:      eventType,
		ProjectID: fields[1],
		Text:      strings.Clone(text(out, res.text)),
		// Data stays a view of out (most of the body; copying it would double the work): documented on Event.
		Data:          json.RawMessage(out[res.data.off : res.data.off+res.data.len : res.data.off+res.data.len]),
		Body:          body,
		MatchedSecret: int(res.matched_secret),
		Timestamp:     int64(res.timestamp),
		DeliveryID:    fields[2],
	}
	if res.has_created {
		event.Created = time.Unix(int64(res.created_seconds), int64(res.created_nanos)).UTC()
		event.HasCreated = true
	}
	return event
}
