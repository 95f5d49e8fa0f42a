// The C side of the Go binding: one crossing per verification (see cgo.go). Compiled by cgo with the
// package; its only dependency is include/anchor_webhooks.h.
#ifndef ANCHOR_GO_SHIM_H
#define ANCHOR_GO_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anchor_webhooks.h"

// Where one text field landed in the caller's output buffer.
typedef struct { size_t off; size_t len; bool present; } go_span;

typedef struct {
	go_span id, type, project_id, text, data, delivery_id;
	bool has_created;
	int64_t created_seconds;
	uint32_t created_nanos;
	size_t matched_secret;
	uint64_t timestamp;
	anchor_reception reception;
	// Set when a field did not fit in the output buffer (the Go side sizes it so this cannot happen).
	bool overflow;
	// On failure: the message, in the output buffer (message_len bytes) or, when it did not fit, in
	// big_message (malloc'd, the caller frees it).
	size_t message_len;
	char *big_message;
} go_result;

anchor_result go_verify(const anchor_verifier *verifier, const uint8_t *packed, const size_t *lens,
        size_t count, const uint8_t *body, size_t body_len, uint64_t now, uint8_t *out,
        size_t cap, go_result *res);

anchor_result go_verify_signature(const anchor_verifier *verifier, const uint8_t *packed,
        const size_t *lens, size_t count, const uint8_t *body, size_t body_len,
        uint64_t now, uint8_t *out, size_t cap, go_result *res);

anchor_result go_receive(const anchor_receiver *receiver, const uint8_t *packed, const size_t *lens,
        size_t count, const uint8_t *body, size_t body_len, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, anchor_event **event_out);

anchor_result go_complete(const anchor_receiver *receiver, const anchor_event *event, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, bool *done);

anchor_result go_release(const anchor_receiver *receiver, const anchor_event *event, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, bool *done);

anchor_result go_new_verifier(uint32_t scheme, const uint8_t *packed, const size_t *lens, size_t count,
        bool has_tolerance, uint64_t tolerance, bool has_max_body, size_t max_body,
        uint8_t *out, size_t cap, go_result *res, anchor_verifier **verifier_out);

anchor_result go_sign(uint32_t scheme, const uint8_t *packed, const size_t *lens, size_t count,
        const uint8_t *body, size_t body_len, uint64_t timestamp, bool has_id, const uint8_t *id,
        size_t id_len, bool has_event_type, const uint8_t *event_type, size_t event_type_len,
        uint8_t *out, size_t cap, go_result *res, anchor_signed_headers **signed_out);

anchor_result go_new_memory_store(size_t max_entries, uint64_t done_ttl_seconds, uint8_t *out, size_t cap,
        go_result *res, anchor_memory_store **store_out);

anchor_result go_new_receiver(const anchor_verifier *verifier, const anchor_memory_store *store, uint64_t lease_ms,
        uint8_t *out, size_t cap, go_result *res, anchor_receiver **receiver_out);

// Builds a Redis store: every option comes with has_* (false: the library's default); 
anchor_result go_new_redis_store(const uint8_t *url, size_t url_len, bool has_prefix, const uint8_t *prefix,
        size_t prefix_len, bool has_done_ttl, uint64_t done_ttl_seconds, bool has_timeout, uint64_t timeout_ms,
        bool has_max_idle, size_t max_idle, bool has_pem, const uint8_t *pem, size_t pem_len, uint8_t *out, size_t cap,
        go_result *res, anchor_redis_store **store_out);

anchor_result go_redis_check(const anchor_redis_store *store, uint8_t *out, size_t cap, go_result *res);

anchor_result go_new_receiver_redis(const anchor_verifier *verifier, const anchor_redis_store *store,
        uint64_t lease_ms, uint8_t *out, size_t cap, go_result *res, anchor_receiver **receiver_out);

#endif
