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

// RedisStore is the dedupe store shared by every process and replica of a receiver (Redis 7.0 or later):
// they all see which events are claimed and which are done, and completed ids survive a restart. Pass it
// to Middleware or NewReceiver in place of a MemoryStore.
//
// It is the core's Redis store, the same in every language: a claim is one atomic SET key token NX PX lease
// GET; complete and release are compare-and-set scripts acting only for this claim; keys are
// "{prefix}:{hex SHA-256 of the event id}" (prefix "anchor-webhooks:dedupe" unless WithRedisKeyPrefix says
// otherwise), so no untrusted bytes reach Redis. Every connect and command has one deadline
// (WithRedisTimeout, 1 s by default): a server that is down, hung or unreachable makes Middleware answer 503
// store_unavailable with Retry-After (the sender retries; a Receiver's outcome says the same), never run the
// handler unclaimed, and the store reconnects by itself when the server is back. Each call blocks the
// request's goroutine for up to the timeout waiting for a call slot (WithRedisMaxConcurrentCalls), then up to
// the timeout on Redis: for the claim, and again for its complete or release.
//
// Use one key prefix per endpoint (webhook subscription) when endpoints share a server: an event keeps its id
// across webhooks, so two endpoints sharing a prefix would answer the second one's copy "duplicate". Safe for
// concurrent use; its idle connections close once neither the store nor a Middleware or Receiver made
// from it is reachable.
type RedisStore struct {
	handle *owned[*C.anchor_redis_store]
	// claims and settles bound the calls blocked on Redis at once (claims and checks; completes and
	// releases): each holds an OS thread (a cgo call), so a hung server would otherwise gather one thread per
	// waiting delivery until the runtime's limit kills the process. A call waits at most timeout for a turn,
	// without a thread, then is not sent. Each call also takes a turn of processCalls.
	claims  chan struct{}
	settles chan struct{}
	timeout time.Duration
	// busyMessage is the core's text for a delivery that found no turn: fixed by the store's options, so
	// asked once (a hung server makes many such deliveries).
	busyMessage string
}

type redisConfig struct {
	maxCalls       *int
	keyPrefix      *string
	doneTTL        *time.Duration
	timeout        *time.Duration
	maxIdle        *int
	tlsRootsPEM    []byte
	hasTLSRootsPEM bool
}

// RedisOption configures NewRedisStore.
type RedisOption func(*redisConfig)

// WithRedisKeyPrefix sets the namespace of the store's keys (default "anchor-webhooks:dedupe"). The Redis user
// needs the ACL rules +set +get +del +evalsha +script|load ~{prefix}:* (and +select for a db other than 0).
func WithRedisKeyPrefix(prefix string) RedisOption {
	return func(c *redisConfig) { c.keyPrefix = &prefix }
}

// WithRedisDoneTTL sets how long a completed id is remembered (default 24 h; whole seconds, at least 1 s, as
// for WithDoneTTL).
func WithRedisDoneTTL(ttl time.Duration) RedisOption {
	return func(c *redisConfig) { c.doneTTL = &ttl }
}

// WithRedisTimeout sets the deadline of every connect and every command (default 1 s; at least 1 ms, whole
// milliseconds). It also bounds each call's wait for a call slot (WithRedisMaxConcurrentCalls), so a delivery
// can wait about twice the timeout for its claim, and as long again for its complete or release.
func WithRedisTimeout(timeout time.Duration) RedisOption {
	return func(c *redisConfig) { c.timeout = &timeout }
}

// WithRedisMaxIdleConnections sets how many connections the store keeps open for reuse (default 16; 0 opens
// one per call). More requests than this at once open extra connections, closed after use.
func WithRedisMaxIdleConnections(n int) RedisOption {
	return func(c *redisConfig) { c.maxIdle = &n }
}

// WithRedisMaxConcurrentCalls bounds how many calls on this store wait on Redis at once (default 64; at least
// 1): n claims (and Checks), and n completes and releases, which have slots of their own so that a stream of
// new deliveries never starves the recording of handlers that ran (2n threads in all, and no more than
// MaxProcessRedisCalls allows). Each call holds an OS thread while it
// waits (a cgo call), so a hung server would otherwise gather one thread per delivery in flight, until the
// Go runtime's limit of 10 000 ends the process; MaxProcessRedisCalls bounds the whole process, over every
// store. A claim or a Check waits for a slot up to the store's timeout, a complete or a release up to the
// lease (the handler ran), holding no thread meanwhile (the messages call the slots "threads"). A delivery
// finding none for its claim is verified (a forgery is still 401) and answered 503 store_unavailable with
// Retry-After; a Check finding none is ErrStoreUnavailable; a complete finding none is reported as unrecorded
// (the claim ends with its lease, and a redelivery after that runs the handler again); a release finding
// none leaves the claim to its lease.
func WithRedisMaxConcurrentCalls(n int) RedisOption {
	return func(c *redisConfig) { c.maxCalls = &n }
}

// DefaultRedisMaxConcurrentCalls is the bound of WithRedisMaxConcurrentCalls when it is not given.
const DefaultRedisMaxConcurrentCalls = 64

// WithRedisTLSRootCertificates trusts the certificate authorities in pem (PEM text with at least one
// CERTIFICATE block) instead of the public web roots, for a rediss:// server with a private CA.
func WithRedisTLSRootCertificates(pem []byte) RedisOption {
	return func(c *redisConfig) { c.tlsRootsPEM, c.hasTLSRootsPEM = pem, true }
}

// The library names the C setter it refused; a Go user set the option of the same meaning.
var redisOptionNames = strings.NewReplacer(
	"anchor_redis_store_builder_new (url)", "the URL",
	"anchor_redis_store_builder_set_key_prefix", "WithRedisKeyPrefix",
	"anchor_redis_store_builder_set_done_ttl_seconds", "WithRedisDoneTTL",
	"anchor_redis_store_builder_set_timeout_ms", "WithRedisTimeout",
	"anchor_redis_store_builder_set_tls_root_certificates", "WithRedisTLSRootCertificates",
	"`prefix`", "WithRedisKeyPrefix",
	// The core's own words for the option, in its advice ("trust ... with tls_root_certificates").
	"tls_root_certificates", "WithRedisTLSRootCertificates",
)

// NewRedisStore makes a store for url: redis://[[username]:password@]host[:port][/db], or rediss:// for TLS.
// It only reads the URL and the options (the server may be down now and come up later): call Check at
// start-up. A malformed URL (or one ending in #insecure: trust a private CA with WithRedisTLSRootCertificates
// instead) or an option out of its range is an *Error matching ErrInvalidArgument whose message names the
// option and never the URL, which may hold a password.
func NewRedisStore(url string, opts ...RedisOption) (*RedisStore, error) {
	var cfg redisConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	refused := func(option string, problem string) error {
		return ErrInvalidArgument.withMessage(fmt.Sprintf("invalid_argument: NewRedisStore: %s: %s", option, problem))
	}
	var (
		prefix                         []byte
		doneTTL, timeout               C.uint64_t
		maxIdle                        C.size_t
		hasTTL, hasTimeout, hasMaxIdle bool
	)
	if cfg.keyPrefix != nil {
		prefix = []byte(*cfg.keyPrefix)
	}
	if cfg.doneTTL != nil {
		ttl := *cfg.doneTTL
		if ttl < time.Second || ttl.Truncate(time.Second) != ttl {
			return nil, refused("WithRedisDoneTTL", fmt.Sprintf("%v is not a whole number of seconds of at least 1 s "+
				"(a completed id must be remembered long enough that a retry finds it)", ttl))
		}
		doneTTL, hasTTL = C.uint64_t(ttl/time.Second), true
	}
	if cfg.timeout != nil {
		d := *cfg.timeout
		if d < time.Millisecond || d.Truncate(time.Millisecond) != d {
			return nil, refused("WithRedisTimeout", fmt.Sprintf("%v is not a whole number of milliseconds of at "+
				"least 1 ms", d))
		}
		timeout, hasTimeout = C.uint64_t(d/time.Millisecond), true
	}
	if cfg.maxIdle != nil {
		if *cfg.maxIdle < 0 {
			return nil, refused("WithRedisMaxIdleConnections", fmt.Sprintf("%d is negative", *cfg.maxIdle))
		}
		maxIdle, hasMaxIdle = C.size_t(*cfg.maxIdle), true
	}
	maxCalls := DefaultRedisMaxConcurrentCalls
	if cfg.maxCalls != nil {
		if *cfg.maxCalls < 1 {
			return nil, refused("WithRedisMaxConcurrentCalls", fmt.Sprintf("%d is below 1 (no delivery could "+
				"ever be claimed)", *cfg.maxCalls))
		}
		maxCalls = *cfg.maxCalls
	}
	timeoutDuration := time.Duration(C.ANCHOR_DEFAULT_REDIS_TIMEOUT_MS) * time.Millisecond
	if hasTimeout {
		timeoutDuration = *cfg.timeout
	}
	urlBytes := []byte(url)
	out := make([]byte, 512)
	var res C.go_result
	var ptr *C.anchor_redis_store
	code := C.go_new_redis_store(bytesPtr(urlBytes), C.size_t(len(urlBytes)), C.bool(cfg.keyPrefix != nil),
		bytesPtr(prefix), C.size_t(len(prefix)), C.bool(hasTTL), doneTTL, C.bool(hasTimeout), timeout,
		C.bool(hasMaxIdle), maxIdle, C.bool(cfg.hasTLSRootsPEM), bytesPtr(cfg.tlsRootsPEM),
		C.size_t(len(cfg.tlsRootsPEM)), bytesPtr(out), C.size_t(len(out)), &res, &ptr)
	clear(urlBytes) // the URL may hold a password
	if code != C.ANCHOR_RESULT_OK {
		message := redisOptionNames.Replace(failureMessage(out, &res))
		message = strings.Replace(message, "invalid_argument: ", "invalid_argument: NewRedisStore: ", 1)
		return nil, errorFor(uint32(code), message)
	}
	return &RedisStore{
		handle:      own(ptr, func(ptr *C.anchor_redis_store) { C.anchor_redis_store_free(ptr) }),
		claims:      make(chan struct{}, maxCalls),
		settles:     make(chan struct{}, maxCalls),
		timeout:     timeoutDuration,
		busyMessage: busyText(ptr, maxCalls, false),
	}, nil
}

// busyText is the library's message of a delivery's call (check false) or of a Check (check true) not sent
// because calls calls were blocked on store ("" if it gave none).
func busyText(store *C.anchor_redis_store, calls int, check bool) string {
	out := make([]byte, 512)
	var written C.size_t
	var code uint32 // what the library functions return (an anchor_result)
	if check {
		code = C.anchor_redis_store_busy_check_message(store, C.size_t(calls), bytesPtr(out), C.size_t(len(out)), &written)
	} else {
		code = C.anchor_redis_store_busy_message(store, C.size_t(calls), bytesPtr(out), C.size_t(len(out)), &written)
	}
	if code != C.ANCHOR_RESULT_OK {
		return ""
	}
	return string(out[:written])
}

// owned is s's library store, nil for a nil or zero RedisStore.
func (s *RedisStore) owned() *owned[*C.anchor_redis_store] {
	if s == nil {
		return nil
	}
	return s.handle
}

// Check asks the server whether this store can work, running each of its commands once on a probe key no event
// id can produce, in one of the store's claim slots (within about twice the timeout: the wait for a slot, then
// the call; no slot is ErrStoreUnavailable with the busy message). Call it at start-up. nil: it works. An *Error matching
// ErrStoreMisconfigured: the server answered, and this setup can never work until it is changed (a wrong
// password or user, a missing ACL right, a DB index out of range, Redis older than 7.0, an untrusted TLS
// certificate, TLS against a plain-text port): refuse to start. One matching ErrStoreUnavailable: the server is
// down, starting, hung or out of reach; it may come back, and until then deliveries are answered 503 (the
// sender retries), so a service may start anyway. The message gives the reason, never the URL or the password.
func (s *RedisStore) Check() error {
	if s.ready() {
		// A check holds a thread like a claim (a health endpoint polled while Redis hangs): one of the claims'
		// turns, or unavailable.
		done, full := s.turn(claimCall, 0)
		if full != 0 {
			return s.busyCheck(full)
		}
		defer done()
	}
	handle := s.owned()
	out := make([]byte, 512)
	var res C.go_result
	code := C.go_redis_check(handle.pointer(), bytesPtr(out), C.size_t(len(out)), &res)
	runtime.KeepAlive(handle)
	if code != C.ANCHOR_RESULT_OK {
		refused := failure(code, out, &res).(*Error)
		refused.Message = redisOptionNames.Replace(refused.Message)
		return refused
	}
	return nil
}

func (s *RedisStore) ready() bool { return s.owned() != nil && s.claims != nil }

// MaxProcessRedisCalls bounds the calls blocked on Redis at once in the whole process, over every RedisStore
// (WithRedisMaxConcurrentCalls bounds each store's): 4096, half for claims and checks and half for completes
// and releases, well under the Go runtime's limit of 10 000 OS threads however many stores (one per endpoint)
// a process makes. Stores share it: stores whose Redis hangs can take all of it, and a store on a healthy
// Redis then finds no turn either ("all 2048 threads calling Redis were busy ...").
const MaxProcessRedisCalls = 4096

// processClaims and processSettles are the process-wide bound's turns, for each kind of call.
var (
	processClaims  = make(chan struct{}, MaxProcessRedisCalls/2)
	processSettles = make(chan struct{}, MaxProcessRedisCalls/2)
)

// turn waits (without a thread) at most wait for a turn of kind, in this store and in the process. full is 0
// when one came (done gives it back), else the size of the bound that had none.
func (s *RedisStore) turn(kind callKind, wait time.Duration) (done func(), full int) {
	turns, process := s.claims, processClaims
	if kind == settleCall {
		turns, process = s.settles, processSettles
	}
	wait = max(wait, s.timeout)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case turns <- struct{}{}:
	case <-timer.C:
		return nil, cap(turns)
	}
	select {
	case process <- struct{}{}:
		return func() { <-process; <-turns }, 0
	case <-timer.C:
		<-turns
		return nil, cap(process)
	}
}

// busy is the core's store_unavailable error of a delivery that found no turn because calls calls were
// blocked (a copy each time: the WithRejected hook receives it).
func (s *RedisStore) busy(calls int) *Error {
	if calls == cap(s.claims) {
		return ErrStoreUnavailable.withMessage(s.busyMessage)
	}
	handle := s.owned()
	text := busyText(handle.pointer(), calls, false)
	runtime.KeepAlive(handle)
	if text == "" {
		text = s.busyMessage
	}
	return ErrStoreUnavailable.withMessage(text)
}

// busyCheck is the error of a Check that found no turn because calls calls were blocked, worded as a failed
// check is (a delivery's busy error would advise answering 503).
func (s *RedisStore) busyCheck(calls int) error {
	handle := s.owned()
	text := busyText(handle.pointer(), calls, true)
	runtime.KeepAlive(handle)
	if text == "" {
		return s.busy(calls)
	}
	return errorFor(uint32(C.ANCHOR_RESULT_STORE_UNAVAILABLE), text)
}

// busySettle is the core's store_unavailable error of a complete (complete true) or a release of claim that
// found no turn because calls calls were blocked: the handler of the claimed event ran, and the claim ends
// with its lease.
func (s *RedisStore) busySettle(claim *C.anchor_event, complete bool, calls int) *Error {
	handle := s.owned()
	out := make([]byte, 1024)
	for {
		var written C.size_t
		code := C.anchor_redis_store_busy_settle_message(handle.pointer(), claim, C.size_t(calls), C.bool(complete),
			bytesPtr(out), C.size_t(len(out)), &written)
		runtime.KeepAlive(handle)
		switch {
		case code == C.ANCHOR_RESULT_BUFFER_TOO_SMALL && int(written) > len(out):
			out = make([]byte, written) // a long event id
		case code != C.ANCHOR_RESULT_OK:
			return s.busy(calls)
		default:
			return ErrStoreUnavailable.withMessage(string(out[:written]))
		}
	}
}

func (s *RedisStore) newReceiver(v *Verifier, leaseMs C.uint64_t, out []byte, res *C.go_result,
	receiver **C.anchor_receiver) C.anchor_result {
	handle := s.owned()
	code := C.go_new_receiver_redis(v.owned().pointer(), handle.pointer(), leaseMs, bytesPtr(out), C.size_t(len(out)),
		res, receiver)
	runtime.KeepAlive(handle)
	return code
}
