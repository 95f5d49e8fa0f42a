//! Producing signed deliveries: for the reference sender, the bindings' test helpers and users' own tests.

use std::fmt;
use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::event::TopLevel;
use crate::headers::{HeaderLookup, Headers};
use crate::parse;
use crate::secret::{self, Key};
use crate::verify::Scheme;

/// The `User-Agent` of Anchor deliveries.
pub const ANCHOR_USER_AGENT: &str = "Anchor-Webhooks/1.0";

/// Signs bodies with one or more secrets (during a rotation, one signature per secret).
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    keys: Vec<Key>,
}

/// Optional parts of a signed delivery.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignOptions<'a> {
    /// `Anchor-Delivery-Id` / `webhook-id`. Default: derived from the timestamp and body (a UUID for
    /// Anchor, `msg_` + 32 hex digits for Standard Webhooks), so the same input signs the same way.
    pub id: Option<&'a str>,
    /// `Anchor-Event`. Default: the body's `type` field when the body is a JSON object that has one.
    pub event_type: Option<&'a str>,
}

/// The headers of a signed delivery, in the order a sender writes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders(Vec<(&'static str, String)>);

impl SignedHeaders {
    /// Each `(name, value)` pair, in the order a sender writes them.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(name, value)| (*name, value.as_str()))
    }

    /// The value of one header (exact name as written by the signer, case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// The pairs by value, in the same order.
    pub fn into_vec(self) -> Vec<(&'static str, String)> {
        self.0
    }
}

impl Headers for SignedHeaders {
    fn header(&self, name: &str) -> HeaderLookup<'_> {
        self.0.as_slice().header(name)
    }

    fn headers<const N: usize>(&self, names: [&str; N]) -> [HeaderLookup<'_>; N] {
        self.0.as_slice().headers(names)
    }
}

impl fmt::Display for SignedHeaders {
    /// One `Name: value` per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.iter().try_for_each(|(name, value)| writeln!(f, "{name}: {value}"))
    }
}

impl Signer {
    /// Validates the secrets exactly as a [`crate::Verifier`] does.
    pub fn new<I, S>(scheme: Scheme, secrets: I) -> Result<Signer, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let secrets: Vec<S> = secrets.into_iter().collect();
        Ok(Signer { scheme, keys: secret::keys(scheme, &secrets)? })
    }

    /// The scheme it signs for.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The full header set of a delivery of `body` signed at `timestamp` (unix seconds).
    ///
    /// Fails with `malformed_header` when `options.id` or `options.event_type` could not be sent as a
    /// header value (empty, over 8192 bytes, not printable ASCII: a newline would inject a header, or with
    /// whitespace at either end, which HTTP strips), and
    /// with `malformed_timestamp` when `timestamp` has more digits than a verifier accepts (milliseconds
    /// given as seconds), since no verifier could accept the delivery.
    pub fn sign(
        &self,
        body: &[u8],
        timestamp: u64,
        options: SignOptions<'_>,
    ) -> Result<SignedHeaders, Error> {
        if timestamp > parse::MAX_TIMESTAMP {
            return Err(Error::MalformedTimestamp {
                source: "the timestamp given to sign (over 12 digits: milliseconds instead of seconds?)",
            });
        }
        let id_header = match self.scheme {
            Scheme::Anchor => parse::ANCHOR_DELIVERY_ID,
            Scheme::StandardWebhooks => parse::WEBHOOK_ID[0],
        };
        for (name, value) in [(id_header, options.id), (parse::ANCHOR_EVENT, options.event_type)] {
            if let Some(value) = value {
                sendable(name, value)?;
            }
        }
        let ts = timestamp.to_string();
        match self.scheme {
            Scheme::Anchor => {
                let mut signature = format!("t={ts}");
                for key in &self.keys {
                    let mac = secret::hmac_parts(key, &[b"v0:", ts.as_bytes(), b":", body]);
                    signature.push_str(",v1=");
                    signature.push_str(&hex::encode(mac));
                }
                let id = options.id.map_or_else(|| derived_uuid(&ts, body), str::to_owned);
                let event_type = options.event_type.map(str::to_owned).or_else(|| body_type(body));
                let mut headers = vec![
                    ("User-Agent", ANCHOR_USER_AGENT.to_owned()),
                    ("Content-Type", "application/json".to_owned()),
                ];
                if let Some(event_type) = event_type {
                    headers.push((parse::ANCHOR_EVENT, event_type));
                }
                headers.push((parse::ANCHOR_DELIVERY_ID, id));
                headers.push((parse::ANCHOR_TIMESTAMP, ts));
                headers.push((parse::ANCHOR_SIGNATURE, signature));
                Ok(SignedHeaders(headers))
            }
            Scheme::StandardWebhooks => {
                let id = options
                    .id
                    .map_or_else(|| format!("msg_{}", &hex::encode(digest(&ts, body))[..32]), str::to_owned);
                // Built in place like the Anchor signature (`join` alone costs the WebAssembly build 1 KB).
                let mut signature = String::new();
                for key in &self.keys {
                    let mac = secret::hmac_parts(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
                    if !signature.is_empty() {
                        signature.push(' ');
                    }
                    signature.push_str("v1,");
                    signature.push_str(&STANDARD.encode(mac));
                }
                Ok(SignedHeaders(vec![
                    ("Content-Type", "application/json".to_owned()),
                    (parse::WEBHOOK_ID[0], id),
                    (parse::WEBHOOK_TIMESTAMP[0], ts),
                    (parse::WEBHOOK_SIGNATURE[0], signature),
                ]))
            }
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("secrets", &format_args!("[{} redacted]", self.keys.len()))
            .finish()
    }
}

/// One-call signing: `Signer::new(scheme, secrets)?.sign(body, timestamp, SignOptions::default())`.
pub fn sign<I, S>(scheme: Scheme, secrets: I, body: &[u8], timestamp: u64) -> Result<SignedHeaders, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    Signer::new(scheme, secrets)?.sign(body, timestamp, SignOptions::default())
}

fn digest(ts: &str, body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(ts.as_bytes());
    hasher.update(b":");
    hasher.update(body);
    hasher.finalize().into()
}

/// A UUID (version 8, "custom") derived from the timestamp and body.
fn derived_uuid(ts: &str, body: &[u8]) -> String {
    let mut bytes = digest(ts, body);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut uuid = String::with_capacity(36);
    for (i, byte) in bytes[..16].iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            uuid.push('-');
        }
        let _ = write!(uuid, "{byte:02x}");
    }
    uuid
}

/// The body's `type`, when it can be sent as a header value as is (a `type` with a newline or non-ASCII
/// text is left out of `Anchor-Event` rather than injected into the header block).
fn body_type(body: &[u8]) -> Option<String> {
    let fields = TopLevel::of_object(body)?;
    let event_type = fields.string("type")?;
    sendable(parse::ANCHOR_EVENT, event_type).is_ok().then(|| event_type.to_owned())
}

/// A value the signer may write into header `name`: non-empty, and a header value the verifier accepts.
fn sendable(name: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::malformed(name, "the value to sign is empty"));
    }
    if value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        // HTTP strips them in transit: the value received would not be the one signed (for `webhook-id`,
        // every delivery would then be a signature mismatch).
        return Err(Error::malformed(
            name,
            "the value to sign starts or ends with whitespace, which HTTP strips in transit",
        ));
    }
    parse::check_value(name, value.as_bytes()).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_standard_webhooks_vector() {
        let signer =
            Signer::new(Scheme::StandardWebhooks, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]).unwrap();
        let options = SignOptions { id: Some("msg_p5jXN8AQM9LWM0D4loKWxJek"), event_type: None };
        let headers = signer.sign(br#"{"test": 2432232314}"#, 1614265330, options).unwrap();
        assert_eq!(headers.get("webhook-signature"), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn values_that_would_break_the_header_block_are_refused() {
        let signer = Signer::new(Scheme::Anchor, ["s"]).unwrap();
        for id in ["", "a\nAnchor-Signature: forged", "é", " lead", "trail ", "tab\t"] {
            let options = SignOptions { id: Some(id), event_type: None };
            assert_eq!(signer.sign(b"{}", 1, options).unwrap_err().code(), crate::ErrorCode::MalformedHeader);
        }
        let standard = Signer::new(Scheme::StandardWebhooks, ["whsec_c2VjcmV0"]).unwrap();
        let error =
            standard.sign(b"{}", 1, SignOptions { id: Some("msg_1 "), event_type: None }).unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed header `webhook-id`: the value to sign starts or ends with whitespace, which HTTP strips \
             in transit"
        );
    }

    #[test]
    fn a_body_type_that_is_not_a_header_value_is_left_out() {
        let signer = Signer::new(Scheme::Anchor, ["s"]).unwrap();
        for body in [
            &br#"{"type":"\u00e9"}"#[..],
            br#"{"type":"a\r\nX-Injected: 1"}"#,
            br#"{"type":""}"#,
            br#"{"type":" x"}"#,
        ] {
            let headers = signer.sign(body, 1, SignOptions::default()).unwrap();
            assert_eq!(headers.get("Anchor-Event"), None, "{}", String::from_utf8_lossy(body));
            // Our own verifier accepts what we signed.
            let verifier = crate::Verifier::anchor(["s"]).unwrap();
            assert!(verifier.verify_signature(&headers, body, 1).is_ok());
        }
        let headers = signer.sign(br#"{"type":"task.completed"}"#, 1, SignOptions::default()).unwrap();
        assert_eq!(headers.get("Anchor-Event"), Some("task.completed"));
    }

    #[test]
    fn a_timestamp_no_verifier_accepts_is_refused() {
        let signer = Signer::new(Scheme::Anchor, ["s"]).unwrap();
        let largest = signer.sign(b"{}", parse::MAX_TIMESTAMP, SignOptions::default()).unwrap();
        assert_eq!(largest.get("Anchor-Timestamp"), Some("999999999999"));
        for (scheme, secret) in [(Scheme::Anchor, "s"), (Scheme::StandardWebhooks, "whsec_AA")] {
            let signer = Signer::new(scheme, [secret]).unwrap();
            // Milliseconds (Date.now(), time.time() * 1000) where seconds belong.
            let error = signer.sign(b"{}", 1_716_544_084_000, SignOptions::default()).unwrap_err();
            assert_eq!(
                error.to_string(),
                "malformed timestamp in the timestamp given to sign (over 12 digits: milliseconds instead of \
                 seconds?): expected unix seconds as 1 to 12 ASCII digits"
            );
        }
    }

    #[test]
    fn derived_ids_are_uuids_and_stable() {
        let a = derived_uuid("1", b"x");
        assert_eq!(a, derived_uuid("1", b"x"));
        assert_ne!(a, derived_uuid("2", b"x"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }
}
