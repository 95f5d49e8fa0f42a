//! The error catalogue: one table, every language.
//!
//! [`ErrorCode`] is declared once, below, with its stable snake_case id, its stable number (the C ABI's
//! result code; numbers are never reused) and its suggested HTTP status. Bindings expose
//! [`ErrorCode::ALL`] and test their own declarations against it.

use std::fmt;

use crate::Scheme;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $number:literal, $code:literal, $status:literal; )+) => {
        /// The stable, field-less identity of an [`Error`]: what bindings and tests compare.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The stable snake_case id, e.g. `"signature_mismatch"`.
            pub const fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The stable number used by the C ABI (`ANCHOR_RESULT_*`). Never reused.
            pub const fn number(self) -> u32 {
                match self { $(ErrorCode::$variant => $number,)+ }
            }

            /// The HTTP status a receiver should answer with: 400 for malformed input, 401 for a failed
            /// verification, 413 for `body_too_large`, 503 for `store_unavailable` (so the sender retries),
            /// 500 for `invalid_secret` (a server configuration error). The table is "Suggested HTTP
            /// answers" in [`decisions`](crate::decisions).
            pub const fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// Looks a code up by its snake_case id.
            pub fn from_str_code(code: &str) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

error_codes! {
    /// A secret is empty, padded with whitespace, quoted, or of the wrong format for the scheme.
    InvalidSecret = 1, "invalid_secret", 500;
    /// A required header is absent.
    MissingHeader = 2, "missing_header", 400;
    /// A header is repeated, too long, not ASCII, or does not follow its grammar.
    MalformedHeader = 3, "malformed_header", 400;
    /// A timestamp is not 1 to 12 ASCII digits.
    MalformedTimestamp = 4, "malformed_timestamp", 400;
    /// `Anchor-Timestamp` and the signature's `t=` disagree.
    TimestampMismatch = 5, "timestamp_mismatch", 401;
    /// The signed timestamp is older than the tolerance allows.
    TimestampTooOld = 6, "timestamp_too_old", 401;
    /// The signed timestamp is further in the future than the tolerance allows.
    TimestampTooNew = 7, "timestamp_too_new", 401;
    /// The signature header carries no signature of a version we verify.
    NoSignature = 8, "no_signature", 401;
    /// No signature matches any configured secret.
    SignatureMismatch = 9, "signature_mismatch", 401;
    /// The body is larger than the configured limit.
    BodyTooLarge = 10, "body_too_large", 413;
    /// The signature is valid but the body is not the expected JSON envelope.
    InvalidPayload = 11, "invalid_payload", 400;
    /// The dedupe store could not be reached or refused the claim.
    StoreUnavailable = 12, "store_unavailable", 503;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why verification (or building a verifier, or a dedupe call) failed.
///
/// Every message says what was wrong and what to do about it. No message ever contains a secret, a
/// signature or the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A configured secret is unusable; `index` is its position in the list given.
    InvalidSecret {
        /// Position of the secret in the list given, from 0 (messages count from 1: `secret #1`); 0 with
        /// [`SecretProblem::NoSecrets`].
        index: usize,
        /// What is wrong with it.
        reason: SecretProblem,
    },
    /// A required header is absent. `signed_with` is set when the delivery carries the signature header of
    /// the other scheme instead (that scheme, and the header found): a verifier built for the wrong scheme.
    MissingHeader {
        /// The absent header's canonical name, e.g. `Anchor-Signature` or `webhook-id`.
        header: &'static str,
        /// The other scheme and the name of its signature header, when the delivery carries that header
        /// instead; otherwise `None` (always for a missing `Anchor-Timestamp`: `Anchor-Signature` is there).
        signed_with: Option<(Scheme, &'static str)>,
    },
    /// A header is present but unusable.
    MalformedHeader {
        /// The header's canonical name, e.g. `Anchor-Signature` or `svix-signature`.
        header: &'static str,
        /// What is wrong, as a phrase for the message, e.g. `"it appears more than once"`.
        reason: &'static str,
    },
    /// A timestamp is not 1 to 12 ASCII digits.
    MalformedTimestamp {
        /// Where the timestamp was read, as the message names it: a header, the `t=` item of
        /// `Anchor-Signature`, or the timestamp given to `sign`.
        source: &'static str,
    },
    /// `Anchor-Timestamp` and `t=` are both present and differ.
    TimestampMismatch,
    /// The signed timestamp is `skew` seconds older than `now`, more than `tolerance`.
    TimestampTooOld {
        /// `now` minus the signed timestamp, in seconds.
        skew: u64,
        /// The verifier's tolerance, in seconds.
        tolerance: u64,
    },
    /// The signed timestamp is `skew` seconds ahead of `now`, more than `tolerance`.
    TimestampTooNew {
        /// The signed timestamp minus `now`, in seconds.
        skew: u64,
        /// The verifier's tolerance, in seconds.
        tolerance: u64,
    },
    /// The signature header has no signature of a version we verify.
    NoSignature {
        /// The signature header's name: `Anchor-Signature`, or the `webhook-signature` or
        /// `svix-signature` that was read.
        header: &'static str,
    },
    /// No signature matched any of the configured secrets.
    SignatureMismatch {
        /// How many signatures of the verified version (`v1`) the header carried.
        signatures: usize,
        /// How many secrets the verifier has.
        secrets: usize,
        /// The likely cause, when the body suggests one.
        hint: MismatchHint,
        /// Why an item of the header could not be read, when one could not (it was skipped, and may have
        /// been the signature meant to match).
        unreadable: Option<&'static str>,
    },
    /// The body is `len` bytes, more than `limit`.
    BodyTooLarge {
        /// The body's length, in bytes.
        len: usize,
        /// The verifier's body limit, in bytes.
        limit: usize,
    },
    /// The signature is valid but the body is not the expected envelope.
    InvalidPayload {
        /// What is wrong with the body, e.g. the field that is missing, or where the JSON stops being valid
        /// (line and column).
        reason: String,
    },
    /// The dedupe store failed; the receiver should answer 503 so the sender retries.
    StoreUnavailable {
        /// What failed, e.g. the store's own error text, or a record the core cannot read.
        reason: String,
    },
}

/// What is wrong with a secret (never the secret itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretProblem {
    /// No secret at all was configured.
    NoSecrets,
    /// The secret is the empty string.
    Empty,
    /// Leading or trailing whitespace (any Unicode whitespace): a copy-paste error.
    SurroundingWhitespace,
    /// Wrapped in a pair of the same quote, `"…"` or `'…'`: copied from JSON or a `.env` file.
    Quoted,
    /// A control character inside the secret (a line break, tab or NUL): a line-wrapped or damaged copy.
    ControlCharacter,
    /// An invisible character anywhere in the secret: a byte order mark (U+FEFF), a zero-width character
    /// (U+200B to U+200D, U+2060) or a soft hyphen (U+00AD).
    InvisibleCharacter,
    /// A `whsec_` secret given to the Anchor scheme.
    StandardSecretForAnchor,
    /// A 64-hex-digit secret given to the Standard Webhooks scheme.
    AnchorSecretForStandard,
    /// A Standard Webhooks asymmetric key (`whpk_...` or `whsk_...`, ed25519), not an HMAC secret.
    AsymmetricKey,
    /// The part after `whsec_` is not base64.
    NotBase64,
    /// A Standard Webhooks secret without the `whsec_` prefix (read whole as base64) that is not base64:
    /// usually a secret of another format, or a truncated copy.
    UnprefixedNotBase64,
    /// The base64 decodes to nothing.
    EmptyKey,
}

/// A likely cause of a signature mismatch, detected from the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MismatchHint {
    /// Nothing specific: the usual causes are listed.
    None,
    /// The body is empty: a body parser probably consumed it.
    EmptyBody,
    /// The body looks like JSON re-serialised by a parser (pretty-printed or `", "` separators).
    LooksReserialised,
    /// A secret of an Anchor verifier is not shaped like the secrets the provider issues (64 lowercase hex
    /// characters): cut short, changed in case, or a `NAME=value` line.
    UnissuedSecretShape,
    /// The body is gzip data (it starts with gzip's magic bytes): compressed on the way, a
    /// `Content-Encoding`, after the sender signed it uncompressed.
    Compressed,
}

impl Error {
    /// The stable identity of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidSecret { .. } => ErrorCode::InvalidSecret,
            Error::MissingHeader { .. } => ErrorCode::MissingHeader,
            Error::MalformedHeader { .. } => ErrorCode::MalformedHeader,
            Error::MalformedTimestamp { .. } => ErrorCode::MalformedTimestamp,
            Error::TimestampMismatch => ErrorCode::TimestampMismatch,
            Error::TimestampTooOld { .. } => ErrorCode::TimestampTooOld,
            Error::TimestampTooNew { .. } => ErrorCode::TimestampTooNew,
            Error::NoSignature { .. } => ErrorCode::NoSignature,
            Error::SignatureMismatch { .. } => ErrorCode::SignatureMismatch,
            Error::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            Error::InvalidPayload { .. } => ErrorCode::InvalidPayload,
            Error::StoreUnavailable { .. } => ErrorCode::StoreUnavailable,
        }
    }

    /// The HTTP status a receiver should answer with, that of [`ErrorCode::http_status`].
    pub const fn http_status(&self) -> u16 {
        self.code().http_status()
    }

    /// The measured clock skew in seconds, for the two tolerance errors.
    pub const fn skew_seconds(&self) -> Option<u64> {
        match self {
            Error::TimestampTooOld { skew, .. } | Error::TimestampTooNew { skew, .. } => Some(*skew),
            _ => None,
        }
    }

    pub(crate) fn malformed(header: &'static str, reason: &'static str) -> Error {
        Error::MalformedHeader { header, reason }
    }

    pub(crate) fn invalid_payload(reason: impl Into<String>) -> Error {
        Error::InvalidPayload { reason: reason.into() }
    }
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecretProblem::NoSecrets => "no secret was configured; pass at least one",
            SecretProblem::Empty => "it is empty (an empty secret would let anyone sign)",
            SecretProblem::SurroundingWhitespace => {
                "it has leading or trailing whitespace (a copy-paste error?); strip it"
            }
            SecretProblem::Quoted => {
                "it is wrapped in quotes (copied from JSON or a .env file?); remove them"
            }
            SecretProblem::ControlCharacter => {
                "it contains a control character (a line break, tab or NUL) inside it: a line-wrapped or damaged \
                 copy? give the secret on one line, exactly as issued"
            }
            SecretProblem::InvisibleCharacter => {
                "it contains an invisible character (a byte order mark U+FEFF, or a zero-width character such as \
                 U+200B), left by the file or web page it was copied from; remove it"
            }
            SecretProblem::StandardSecretForAnchor => {
                "it starts with `whsec_`, a Standard Webhooks secret; use the standard scheme for it"
            }
            SecretProblem::AnchorSecretForStandard => {
                "it is 64 hex digits, an Anchor secret; use the anchor scheme, or give the `whsec_...` secret"
            }
            SecretProblem::AsymmetricKey => {
                "it is a Standard Webhooks asymmetric key (`whpk_`/`whsk_`, ed25519), not an HMAC secret: give \
                 the webhook's `whsec_` secret"
            }
            SecretProblem::NotBase64 => "the part after `whsec_` is not valid base64",
            SecretProblem::UnprefixedNotBase64 => {
                "it has no `whsec_` prefix and is not valid base64 either: a Standard Webhooks secret is `whsec_` followed by base64"
            }
            SecretProblem::EmptyKey => "it decodes to an empty key",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSecret { reason: SecretProblem::NoSecrets, .. } => {
                write!(f, "invalid secret: {}", SecretProblem::NoSecrets)
            }
            Error::InvalidSecret { index, reason } => write!(f, "invalid secret #{}: {reason}", index + 1),
            Error::MissingHeader { header, signed_with: None } => write!(
                f,
                "missing header `{header}`: is this a signed delivery, and does your framework pass all headers through?"
            ),
            Error::MissingHeader { header, signed_with: Some((scheme, found)) } => write!(
                f,
                "missing header `{header}`: the delivery carries `{found}` instead, so it is signed with the {} \
                 scheme: verify it with a verifier of the {scheme} scheme and that webhook's {} secret",
                match scheme {
                    Scheme::Anchor => "Anchor",
                    Scheme::StandardWebhooks => "Standard Webhooks",
                },
                match scheme {
                    Scheme::Anchor => "64-hex-digit",
                    Scheme::StandardWebhooks => "`whsec_`",
                }
            ),
            Error::MalformedHeader { header, reason } => write!(f, "malformed header `{header}`: {reason}"),
            Error::MalformedTimestamp { source } => write!(
                f,
                "malformed timestamp in {source}: expected unix seconds as 1 to 12 ASCII digits"
            ),
            Error::TimestampMismatch => f.write_str(
                "timestamp mismatch: the `Anchor-Timestamp` header and the signature's `t=` differ",
            ),
            Error::TimestampTooOld { skew, tolerance } => {
                write!(f, "timestamp too old: signed {skew} s before now, tolerance is {tolerance} s ")?;
                f.write_str(if wrong_unit(*skew, MILLISECONDS_AS_SECONDS_SKEW) {
                    "(`now` looks like unix milliseconds: verification takes unix seconds)"
                } else {
                    "(a replay, a delayed retry, or this server's clock is fast?)"
                })
            }
            Error::TimestampTooNew { skew, tolerance } => {
                write!(f, "timestamp too new: signed {skew} s after now, tolerance is {tolerance} s ")?;
                f.write_str(if wrong_unit(*skew, DECADES) {
                    "(`now` is decades behind: seconds passed where milliseconds are expected (the Rust and C \
                     receivers and stores take unix milliseconds), or no real time?)"
                } else {
                    "(this server's clock is slow? check NTP)"
                })
            }
            Error::NoSignature { header } => {
                write!(f, "no signature: `{header}` carries no `v1` signature")
            }
            Error::SignatureMismatch { signatures, secrets, hint, unreadable } => {
                write!(
                    f,
                    "signature mismatch: none of the {signatures} signature(s) matches any of the {secrets} secret(s)"
                )?;
                if let Some(why) = unreadable {
                    write!(f, " (and an item of the header could not be read: {why})")?;
                }
                f.write_str("; ")?;
                f.write_str(match hint {
                    MismatchHint::EmptyBody => {
                        "the body is empty: was it consumed by a body parser before verification? pass the raw request body"
                    }
                    MismatchHint::LooksReserialised => {
                        "the body looks re-serialised by a JSON parser: verify the raw bytes as received, before parsing \
                         (or is this not the secret of this webhook?)"
                    }
                    MismatchHint::UnissuedSecretShape => {
                        "a secret is not 64 lowercase hex characters as issued: copied whole and unchanged?"
                    }
                    MismatchHint::Compressed => {
                        "the body is gzip-compressed: verify the bytes as the sender signed them (a `Content-Encoding` on the way?)"
                    }
                    MismatchHint::None => {
                        "was the body parsed and re-serialised? verify the raw bytes; is this the secret of this webhook?"
                    }
                })
            }
            // A host that stops reading at the limit plus one byte knows only that much of the size.
            Error::BodyTooLarge { len, limit } if *len == limit.saturating_add(1) => {
                write!(f, "body too large: more than the limit of {limit} bytes")
            }
            Error::BodyTooLarge { len, limit } => {
                write!(f, "body too large: {len} bytes, the limit is {limit} bytes")
            }
            Error::InvalidPayload { reason } => {
                write!(f, "invalid payload (the signature is valid): {reason}")
            }
            Error::StoreUnavailable { reason } => write!(
                f,
                "dedupe store unavailable: {reason}; answer 503 so the sender retries"
            ),
        }
    }
}

/// A skew no clock error explains: `now` in unix milliseconds read as seconds is at least this far ahead
/// of any timestamp of the last 3 000 years.
const MILLISECONDS_AS_SECONDS_SKEW: u64 = 100_000_000_000;

/// Ten years: a timestamp this far ahead of `now` means a `now` in the wrong unit (seconds divided by a
/// thousand again lands in 1970), not a slow clock.
const DECADES: u64 = 10 * 365 * 24 * 60 * 60;

/// Whether a skew of `skew` seconds is at least `limit`, so that `now` in the wrong unit explains it better
/// than a clock does. Never in the WebAssembly build: its binding takes seconds or a `Date` and refuses
/// milliseconds, so the hints cannot arise there, and its 150 KiB budget has no room for text never shown.
fn wrong_unit(skew: u64, limit: u64) -> bool {
    !cfg!(target_arch = "wasm32") && skew >= limit
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_numbers_are_unique() {
        let mut numbers: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.number()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_str_code(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::from_str_code("nope"), None);
    }

    #[test]
    fn a_body_read_up_to_the_limit_plus_one_is_not_given_that_size() {
        let message = |len| Error::BodyTooLarge { len, limit: 1024 }.to_string();
        assert_eq!(message(1025), "body too large: more than the limit of 1024 bytes");
        assert_eq!(message(4096), "body too large: 4096 bytes, the limit is 1024 bytes");
    }

    #[test]
    fn a_clock_in_the_wrong_unit_is_named_instead_of_blaming_the_clock() {
        use crate::{sign, MemoryStore, Receiver, Scheme, Verifier};
        let now_s = 1_779_625_085;
        let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let headers = sign(Scheme::Anchor, ["s3cret"], body, now_s).unwrap().into_vec();
        let verifier = Verifier::anchor(["s3cret"]).unwrap();
        let message = |now| verifier.verify(&headers, body, now).unwrap_err().to_string();
        assert_eq!(
            message(now_s * 1000),
            "timestamp too old: signed 1777845459915 s before now, tolerance is 120 s (`now` looks like unix \
             milliseconds: verification takes unix seconds)"
        );
        assert_eq!(
            message(now_s + 121),
            "timestamp too old: signed 121 s before now, tolerance is 120 s (a replay, a delayed retry, or this \
             server's clock is fast?)"
        );
        assert_eq!(
            message(now_s - 121),
            "timestamp too new: signed 121 s after now, tolerance is 120 s (this server's clock is slow? check NTP)"
        );
        // Seconds handed to a Receiver, which takes milliseconds: 1970 as the verifier sees it.
        let receiver = Receiver::new(verifier.clone(), MemoryStore::default());
        let error = receiver.receive(&headers, body, now_s).map(|_| ()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "timestamp too new: signed 1777845460 s after now, tolerance is 120 s (`now` is decades behind: \
             seconds passed where milliseconds are expected (the Rust and C receivers and stores take unix \
             milliseconds), or no real time?)"
        );
    }

    #[test]
    fn a_standard_secret_that_cannot_key_an_hmac_is_named_by_its_prefix() {
        use crate::{Scheme, Verifier};
        let message =
            |secret: &str| Verifier::new(Scheme::StandardWebhooks, [secret]).unwrap_err().to_string();
        assert_eq!(message("whsec_!!"), "invalid secret #1: the part after `whsec_` is not valid base64");
        for key in ["whpk_MCowBQYDK2VwAyEA", "whsk_MC4CAQAwBQYDK2Vw"] {
            for scheme in [Scheme::StandardWebhooks, Scheme::Anchor] {
                assert_eq!(
                    Verifier::new(scheme, [key]).unwrap_err().to_string(),
                    "invalid secret #1: it is a Standard Webhooks asymmetric key (`whpk_`/`whsk_`, ed25519), not an \
                     HMAC secret: give the webhook's `whsec_` secret"
                );
            }
        }
        assert_eq!(
            message("my_webhook_secret"),
            "invalid secret #1: it has no `whsec_` prefix and is not valid base64 either: a Standard Webhooks \
             secret is `whsec_` followed by base64"
        );
    }
}
