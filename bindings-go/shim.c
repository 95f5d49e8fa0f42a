// The C side of the Go binding; see shim.h and cgo.go.
#include <stdlib.h>
#include <string.h>

#include "shim.h"

// Headers arrive packed: every name and value back to back in `packed`, their lengths in `lens` (two per
// header). The anchor_header array the library reads is built here, on the C stack when it is small.
#define GO_STACK_HEADERS 32

static anchor_header *go_headers(const uint8_t *packed, const size_t *lens, size_t count, anchor_header *stack) {
	anchor_header *headers = count <= GO_STACK_HEADERS ? stack : malloc(count * sizeof *headers);
	if (headers == NULL) return NULL;
	size_t at = 0;
	for (size_t i = 0; i < count; i++) {
		headers[i].name = packed + at;
		headers[i].name_len = lens[2 * i];
		at += lens[2 * i];
		headers[i].value = packed + at;
		headers[i].value_len = lens[2 * i + 1];
		at += lens[2 * i + 1];
	}
	return headers;
}

static void go_copy(anchor_bytes view, uint8_t *out, size_t cap, size_t *used, go_span *span, bool *overflow) {
	span->present = view.data != NULL;
	span->off = *used;
	span->len = 0;
	if (view.len == 0) return;
	if (*used + view.len > cap) {
		*overflow = true;
		return;
	}
	memcpy(out + *used, view.data, view.len);
	span->len = view.len;
	*used += view.len;
}

// Copies every field of `event` into `out` (the caller sizes it to hold them all).
static void go_fields(const anchor_event *event, uint8_t *out, size_t cap, go_result *res) {
	anchor_bytes view;
	size_t used = 0;
	anchor_event_id(event, &view); go_copy(view, out, cap, &used, &res->id, &res->overflow);
	anchor_event_type(event, &view); go_copy(view, out, cap, &used, &res->type, &res->overflow);
	anchor_event_project_id(event, &view); go_copy(view, out, cap, &used, &res->project_id, &res->overflow);
	anchor_event_text(event, &view); go_copy(view, out, cap, &used, &res->text, &res->overflow);
	anchor_event_data(event, &view); go_copy(view, out, cap, &used, &res->data, &res->overflow);
	anchor_event_delivery_id(event, &view); go_copy(view, out, cap, &used, &res->delivery_id, &res->overflow);
	anchor_event_created_unix(event, &res->has_created, &res->created_seconds, &res->created_nanos);
	anchor_event_matched_secret(event, &res->matched_secret);
	anchor_event_timestamp(event, &res->timestamp);
}


static anchor_result go_thread_last_error(const void *unused, uint8_t *buf, size_t len, size_t *written) {
	(void)unused;
	return anchor_last_error(buf, len, written);
}

// Fetches this thread's message right after the failure (same call, so same OS thread). A call given a NULL
// handle (a nil Verifier) kept its message ("`verifier` is NULL") for the thread, not on a handle.
static void go_message(anchor_result (*last_error)(const void *, uint8_t *, size_t, size_t *), const void *handle,
                       uint8_t *out, size_t cap, go_result *res) {
	if (handle == NULL) last_error = go_thread_last_error;
	size_t written = 0;
	anchor_result r = last_error(handle, out, cap, &written);
	if (r == ANCHOR_RESULT_OK) {
		res->message_len = written;
	} else if (r == ANCHOR_RESULT_BUFFER_TOO_SMALL) {
		res->big_message = malloc(written);
		size_t again = 0;
		if (res->big_message != NULL &&
		    last_error(handle, (uint8_t *)res->big_message, written, &again) == ANCHOR_RESULT_OK)
			res->message_len = again;
	}
}

static anchor_result go_verifier_last_error(const void *v, uint8_t *buf, size_t len, size_t *written) {
	return anchor_verifier_last_error((const anchor_verifier *)v, buf, len, written);
}

static anchor_result go_receiver_last_error(const void *r, uint8_t *buf, size_t len, size_t *written) {
	return anchor_receiver_last_error((const anchor_receiver *)r, buf, len, written);
}

static anchor_result go_redis_builder_last_error(const void *b, uint8_t *buf, size_t len, size_t *written) {
	return anchor_redis_store_builder_last_error((const anchor_redis_store_builder *)b, buf, len, written);
}

static anchor_result go_redis_store_last_error(const void *s, uint8_t *buf, size_t len, size_t *written) {
	return anchor_redis_store_last_error((const anchor_redis_store *)s, buf, len, written);
}

static anchor_result go_builder_last_error(const void *b, uint8_t *buf, size_t len, size_t *written) {
	return anchor_verifier_builder_last_error((const anchor_verifier_builder *)b, buf, len, written);
}

anchor_result go_verify(const anchor_verifier *verifier, const uint8_t *packed, const size_t *lens,
        size_t count, const uint8_t *body, size_t body_len, uint64_t now, uint8_t *out,
        size_t cap, go_result *res) {
	anchor_header stack[GO_STACK_HEADERS];
	anchor_header *headers = go_headers(packed, lens, count, stack);
	if (headers == NULL) return ANCHOR_RESULT_PANIC;
	anchor_event *event = NULL;
	anchor_result r = anchor_verifier_verify(verifier, headers, count, body, body_len, now, &event);
	if (headers != stack) free(headers);
	if (r == ANCHOR_RESULT_OK) {
		go_fields(event, out, cap, res);
		anchor_event_free(event);
	} else {
		go_message(go_verifier_last_error, verifier, out, cap, res);
	}
	return r;
}

anchor_result go_verify_signature(const anchor_verifier *verifier, const uint8_t *packed,
        const size_t *lens, size_t count, const uint8_t *body, size_t body_len,
        uint64_t now, uint8_t *out, size_t cap, go_result *res) {
	anchor_header stack[GO_STACK_HEADERS];
	anchor_header *headers = go_headers(packed, lens, count, stack);
	if (headers == NULL) return ANCHOR_RESULT_PANIC;
	anchor_result r = anchor_verifier_verify_signature(verifier, headers, count, body, body_len, now,
	                                                   &res->matched_secret, &res->timestamp);
	if (headers != stack) free(headers);
	if (r != ANCHOR_RESULT_OK) go_message(go_verifier_last_error, verifier, out, cap, res);
	return r;
}

// Receives a delivery; a fresh reception keeps its event (the claim) in *event_out for complete/release.
anchor_result go_receive(const anchor_receiver *receiver, const uint8_t *packed, const size_t *lens,
        size_t count, const uint8_t *body, size_t body_len, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, anchor_event **event_out) {
	anchor_header stack[GO_STACK_HEADERS];
	anchor_header *headers = go_headers(packed, lens, count, stack);
	if (headers == NULL) return ANCHOR_RESULT_PANIC;
	anchor_event *event = NULL;
	anchor_result r = anchor_receiver_receive(receiver, headers, count, body, body_len, now_ms, &res->reception, &event);
	if (headers != stack) free(headers);
	if (r == ANCHOR_RESULT_OK) {
		go_fields(event, out, cap, res);
		if (res->reception == ANCHOR_RECEPTION_FRESH) {
			*event_out = event;
		} else {
			anchor_event_free(event);
		}
	} else {
		go_message(go_receiver_last_error, receiver, out, cap, res);
	}
	return r;
}

// Completes a claim; a lost claim (OK, *done false) brings the core's warning to `out` (same call, so same
// OS thread as the message it reads).
anchor_result go_complete(const anchor_receiver *receiver, const anchor_event *event, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, bool *done) {
	anchor_result r = anchor_receiver_complete(receiver, event, now_ms, done);
	if (r != ANCHOR_RESULT_OK || !*done) go_message(go_receiver_last_error, receiver, out, cap, res);
	return r;
}

anchor_result go_release(const anchor_receiver *receiver, const anchor_event *event, uint64_t now_ms,
        uint8_t *out, size_t cap, go_result *res, bool *done) {
	anchor_result r = anchor_receiver_release(receiver, event, now_ms, done);
	if (r != ANCHOR_RESULT_OK) go_message(go_receiver_last_error, receiver, out, cap, res);
	return r;
}

// Builds a verifier; on failure the builder's message goes to `out`.
anchor_result go_new_verifier(uint32_t scheme, const uint8_t *packed, const size_t *lens, size_t count,
        bool has_tolerance, uint64_t tolerance, bool has_max_body, size_t max_body,
        uint8_t *out, size_t cap, go_result *res, anchor_verifier **verifier_out) {
	anchor_verifier_builder *builder = NULL;
	anchor_result r = anchor_verifier_builder_new(scheme, &builder);
	if (r != ANCHOR_RESULT_OK) return r;
	size_t at = 0;
	for (size_t i = 0; i < count && r == ANCHOR_RESULT_OK; i++) {
		r = anchor_verifier_builder_add_secret(builder, packed + at, lens[i]);
		at += lens[i];
	}
	if (r == ANCHOR_RESULT_OK && has_tolerance) r = anchor_verifier_builder_set_tolerance(builder, tolerance);
	if (r == ANCHOR_RESULT_OK && has_max_body) r = anchor_verifier_builder_set_max_body_bytes(builder, max_body);
	if (r == ANCHOR_RESULT_OK) r = anchor_verifier_builder_build(builder, verifier_out);
	if (r != ANCHOR_RESULT_OK) go_message(go_builder_last_error, builder, out, cap, res);
	anchor_verifier_builder_free(builder);
	return r;
}

// Signs: the secrets arrive packed like headers (one length each); the options are (pointer, length)
// pairs with a NULL pointer for "default". anchor_sign has no handle, so its message is this thread's.
anchor_result go_sign(uint32_t scheme, const uint8_t *packed, const size_t *lens, size_t count,
        const uint8_t *body, size_t body_len, uint64_t timestamp, bool has_id, const uint8_t *id,
        size_t id_len, bool has_event_type, const uint8_t *event_type, size_t event_type_len,
        uint8_t *out, size_t cap, go_result *res, anchor_signed_headers **signed_out) {
	anchor_bytes stack[GO_STACK_HEADERS];
	anchor_bytes *secrets = count <= GO_STACK_HEADERS ? stack : malloc(count * sizeof *secrets);
	if (secrets == NULL) return ANCHOR_RESULT_PANIC;
	size_t at = 0;
	for (size_t i = 0; i < count; i++) {
		secrets[i].data = packed + at;
		secrets[i].len = lens[i];
		at += lens[i];
	}
	static const uint8_t empty[1] = {0};
	anchor_sign_options options = {has_id ? (id ? id : empty) : NULL, id_len,
	                               has_event_type ? (event_type ? event_type : empty) : NULL, event_type_len};
	anchor_result r = anchor_sign(scheme, secrets, count, body, body_len, timestamp, &options, signed_out);
	if (secrets != stack) free(secrets);
	if (r != ANCHOR_RESULT_OK) go_message(go_thread_last_error, NULL, out, cap, res);
	return r;
}

// The constructors without a handle: their message is this thread's, fetched in the same C call (a
// goroutine may move to another thread between two calls).
anchor_result go_new_memory_store(size_t max_entries, uint64_t done_ttl_seconds, uint8_t *out, size_t cap,
        go_result *res, anchor_memory_store **store_out) {
	anchor_result r = anchor_memory_store_new(max_entries, done_ttl_seconds, store_out);
	if (r != ANCHOR_RESULT_OK) go_message(go_thread_last_error, NULL, out, cap, res);
	return r;
}

anchor_result go_new_receiver(const anchor_verifier *verifier, const anchor_memory_store *store, uint64_t lease_ms,
        uint8_t *out, size_t cap, go_result *res, anchor_receiver **receiver_out) {
	anchor_result r = anchor_receiver_new(verifier, store, lease_ms, receiver_out);
	if (r != ANCHOR_RESULT_OK) go_message(go_thread_last_error, NULL, out, cap, res);
	return r;
}

anchor_result go_new_receiver_redis(const anchor_verifier *verifier, const anchor_redis_store *store,
        uint64_t lease_ms, uint8_t *out, size_t cap, go_result *res, anchor_receiver **receiver_out) {
	anchor_result r = anchor_receiver_new_redis(verifier, store, lease_ms, receiver_out);
	if (r != ANCHOR_RESULT_OK) go_message(go_thread_last_error, NULL, out, cap, res);
	return r;
}

// The builder's whole life in one crossing; its message (or, when the builder itself was refused, this
// thread's) is fetched before it is freed.
anchor_result go_new_redis_store(const uint8_t *url, size_t url_len, bool has_prefix, const uint8_t *prefix,
        size_t prefix_len, bool has_done_ttl, uint64_t done_ttl_seconds, bool has_timeout, uint64_t timeout_ms,
        bool has_max_idle, size_t max_idle, bool has_pem, const uint8_t *pem, size_t pem_len, uint8_t *out, size_t cap,
        go_result *res, anchor_redis_store **store_out) {
	static const uint8_t empty[1] = {0};
	anchor_redis_store_builder *builder = NULL;
	anchor_result r = anchor_redis_store_builder_new(url_len ? url : empty, url_len, &builder);
	if (r != ANCHOR_RESULT_OK) {
		go_message(go_thread_last_error, NULL, out, cap, res);
		return r;
	}
	if (has_prefix) r = anchor_redis_store_builder_set_key_prefix(builder, prefix_len ? prefix : empty, prefix_len);
	if (r == ANCHOR_RESULT_OK && has_done_ttl)
		r = anchor_redis_store_builder_set_done_ttl_seconds(builder, done_ttl_seconds);
	if (r == ANCHOR_RESULT_OK && has_timeout) r = anchor_redis_store_builder_set_timeout_ms(builder, timeout_ms);
	if (r == ANCHOR_RESULT_OK && has_max_idle)
		r = anchor_redis_store_builder_set_max_idle_connections(builder, max_idle);
	if (r == ANCHOR_RESULT_OK && has_pem)
		r = anchor_redis_store_builder_set_tls_root_certificates(builder, pem_len ? pem : empty, pem_len);
	if (r == ANCHOR_RESULT_OK) r = anchor_redis_store_builder_build(builder, store_out);
	if (r != ANCHOR_RESULT_OK) go_message(go_redis_builder_last_error, builder, out, cap, res);
	anchor_redis_store_builder_free(builder);
	return r;
}

anchor_result go_redis_check(const anchor_redis_store *store, uint8_t *out, size_t cap, go_result *res) {
	anchor_result r = anchor_redis_store_check(store);
	if (r != ANCHOR_RESULT_OK) go_message(go_redis_store_last_error, store, out, cap, res);
	return r;
}
