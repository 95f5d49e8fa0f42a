package anchorwebhooks

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"time"
)

// MemoryStore is an in-process dedupe store for Middleware: thread-safe, bounded, with a TTL for
// completed event ids. When full of live entries it refuses new claims (ErrStoreUnavailable, answered
// 503) rather than forget a completed id early. Share one store between the middlewares of a process.
type MemoryStore struct {
	ptr *C.anchor_memory_store
}

type storeConfig struct {
	maxEntries int
	doneTTL    time.Duration
}

// StoreOption configures NewMemoryStore.
type StoreOption func(*storeConfig)

// WithMaxEntries bounds the number of ids held (default 100 000).
func WithMaxEntries(n int) StoreOption { return func(c *storeConfig) { c.maxEntries = n } }

// WithDoneTTL sets how long a completed id is remembered (default 24 h; whole seconds).
func WithDoneTTL(ttl time.Duration) StoreOption { return func(c *storeConfig) { c.doneTTL = ttl } }

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
	code := C.anchor_memory_store_new(C.size_t(max(cfg.maxEntries, 1)), C.uint64_t(max(cfg.doneTTL/time.Second, 0)), &ptr)
	if code != C.ANCHOR_RESULT_OK {
		panic(errorFor(uint32(code), "anchor_memory_store_new"))
	}
	s := &MemoryStore{ptr: ptr}
	runtime.AddCleanup(s, func(ptr *C.anchor_memory_store) { C.anchor_memory_store_free(ptr) }, ptr)
	return s
}

// Len is the number of ids held (live, or expired and not yet evicted).
func (s *MemoryStore) Len() int {
	var n C.size_t
	C.anchor_memory_store_len(s.ptr, &n)
	runtime.KeepAlive(s)
	return int(n)
}
