'use strict'
// The results every entry point answers with (`Receiver#receive`, the framework helpers' verify-only
// path), their kinds and statuses read once from the core's `Outcome` (`outcomeCatalogue` in src/lib.rs),
// so no status is decided in JavaScript.

const native = require('./native.cjs')

const OUTCOME_STATUS = Object.freeze(
  Object.fromEntries(native.outcomeCatalogue().map((entry) => [entry.kind, entry.httpStatus])),
)
const RETRY_AFTER_SECONDS = native.retryAfterSeconds()

/** A result `{ status, kind, event, error, retryAfter }`; `Retry-After` goes with every 503. */
function outcome(kind, status, event, error) {
  return { status, kind, event, error, retryAfter: status === 503 ? RETRY_AFTER_SECONDS : null }
}

/** A verified event the handler (if any) took: `Outcome::Processed`. */
function processed(event) {
  return outcome('processed', OUTCOME_STATUS.processed, event, null)
}

/** A rejection: its status is its error's (`Outcome::Rejected`). */
function rejected(event, error) {
  return outcome('rejected', error.httpStatus, event, error)
}

module.exports = { OUTCOME_STATUS, RETRY_AFTER_SECONDS, outcome, processed, rejected }
