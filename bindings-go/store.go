package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Store is where Middleware and Receiver record which events are claimed and which are done: a *MemoryStore (one process)
// or a *RedisStore (shared by every process and replica). The package's two types are the only
// implementations.
type Store interface {
	// ready is false for a nil or zero store (one not made by its constructor).
	ready() bool
	// newReceiver makes the library's receiver over v and this store.
	newReceiver(v *Verifier, leaseMs C.uint64_t, out []byte, res *C.go_result, receiver **C.anchor_receiver) C.anchor_result
	// turn waits at most wait (the store's timeout when 0) for the right to make a call of kind that may
	// block on the store; full is 0 when it came (done ends it), else the size of the bound that had no room.
	turn(kind callKind, wait time.Duration) (done func(), full int)
	// busy is the error of a delivery that found no turn for its claim, full calls being blocked.
	busy(full int) *Error
	// busySettle is the error of a complete (complete true) or a release of claim, whose handler ran, that
	// found no turn, full calls being blocked.
	busySettle(claim *C.anchor_event, complete bool, full int) *Error
}

// callKind sorts a store's blocking calls: claims (and checks) wait for turns of their own, and completes and
// releases for theirs, so a stream of new deliveries never starves the recording of handlers that ran.
type callKind int

const (
	claimCall callKind = iota
	settleCall
)

// MemoryStore is an in-process dedupe store for Middleware and Receiver: thread-safe, bounded, with a TTL for
// completed event ids. When full, a new claim makes room by forgetting the oldest completed id; a store
// full of claims in progress refuses new ones (ErrStoreUnavailable, answered 503).
//
// Use one store per endpoint (per webhook subscription). The dedupe key is the event id alone, and an event
// keeps its id across webhooks, so two endpoints sharing a store would answer the second one's copy of an
// event "duplicate" and never run its handler. Share a store only between several handlers (middlewares) of
// the same endpoint. The store is per process: several replicas or pre-fork processes each dedupe on their
// own; give them a RedisStore instead.
type MemoryStore struct {
	handle *owned[*C.anchor_memory_store]
}

// owned is s's library store, nil for a nil or zero MemoryStore.
func (s *MemoryStore) owned() *owned[*C.anchor_memory_store] {
	if s == nil {
		return nil
	}
	return s.handle
}

type storeConfig struct {
	maxEntries int
	doneTTL    time.Duration
}

// StoreOption configures NewMemoryStore.
type StoreOption func(*storeConfig)

// WithMaxEntries bounds the number of ids held (default 100 000; at least 1, else NewMemoryStore panics with
// the core's reason: a store with room for no id would answer every delivery 503).
func WithMaxEntries(n int) StoreOption { return func(c *storeConfig) { c.maxEntries = n } }

// WithDoneTTL sets how long a completed id is remembered (default 24 h; whole seconds, at least 1 s, else
// NewMemoryStore panics with the core's reason, the same in every language: a shorter TTL would forget a
// completed id at once and run its retry again; a TTL with a fraction of a second panics too, as
// WithTolerance refuses one).
func WithDoneTTL(ttl time.Duration) StoreOption { return func(c *storeConfig) { c.doneTTL = ttl } }

// memoryStoreNames turns the core's names of the settings (the C parameters') into the options' subjects.
var memoryStoreNames = strings.NewReplacer("done_ttl_seconds must", "the done TTL must",
	"max_entries must", "the maximum number of entries must")

// NewMemoryStore makes a store.
func NewMemoryStore(opts ...StoreOption) *MemoryStore {
	cfg := storeConfig{
		maxEntries: C.ANCHOR_DEFAULT_MAX_ENTRIES,
		doneTTL:    C.ANCHOR_DEFAULT_DONE_TTL_SECONDS * time.Second,
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	var ptr *C.anchor_memory_store
	// Silently clamping would turn dedupe off (a TTL of 0 forgets a completed id at once) or answer every
	// delivery 503 (no room): a programming error, reported like the other constructors' (panic with the
	// core's reason, which names the refused setting; negative values reach it as 0).
	settings := fmt.Sprintf("anchorwebhooks: WithMaxEntries(%d), WithDoneTTL(%s)", cfg.maxEntries, cfg.doneTTL)
	if whole := cfg.doneTTL.Truncate(time.Second); whole != cfg.doneTTL && cfg.doneTTL > time.Second {
		// Truncating silently made 1.5 s a TTL of 1 s: the id was forgotten sooner than asked.
		panic(fmt.Sprintf("%s: invalid_argument: done TTL %v is not a whole number of seconds (the TTL is "+
			"counted in whole seconds): use %v", settings, cfg.doneTTL, whole+time.Second))
	}
	var res C.go_result
	out := make([]byte, 512)
	code := C.go_new_memory_store(C.size_t(max(cfg.maxEntries, 0)), C.uint64_t(max(cfg.doneTTL, 0)/time.Second),
		bytesPtr(out), C.size_t(len(out)), &res, &ptr)
	if code != C.ANCHOR_RESULT_OK {
		panic(fmt.Sprintf("%s: %s", settings, memoryStoreNames.Replace(failureMessage(out, &res))))
	}
	return &MemoryStore{handle: own(ptr, func(ptr *C.anchor_memory_store) { C.anchor_memory_store_free(ptr) })}
}

// Len is the number of ids held (live, or expired and not yet evicted).
func (s *MemoryStore) Len() int {
	var n C.size_t
	handle := s.owned()
	C.anchor_memory_store_len(handle.pointer(), &n)
	runtime.KeepAlive(handle)
	return int(n)
}

func (s *MemoryStore) ready() bool { return s.owned() != nil }

// turn: a memory store never blocks, so every call has one at once.
func (s *MemoryStore) turn(callKind, time.Duration) (done func(), full int) { return func() {}, 0 }

func (s *MemoryStore) busy(int) *Error { return ErrStoreUnavailable }

func (s *MemoryStore) busySettle(*C.anchor_event, bool, int) *Error { return ErrStoreUnavailable }

func (s *MemoryStore) newReceiver(v *Verifier, leaseMs C.uint64_t, out []byte, res *C.go_result,
	receiver **C.anchor_receiver) C.anchor_result {
	handle := s.owned()
	code := C.go_new_receiver(v.owned().pointer(), handle.pointer(), leaseMs, bytesPtr(out), C.size_t(len(out)), res,
		receiver)
	runtime.KeepAlive(handle)
	return code
}
