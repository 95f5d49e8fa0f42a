//! The verifier: the exact rules and order of checks of SPEC §3 and §4 (and `core/DECISIONS.md`).

use std::fmt::{self, Write as _};

use subtle::{Choice, ConstantTimeEq};

use crate::error::{Error, MismatchHint};
use crate::event::Event;
use crate::headers::{HeaderLookup, Headers};
use crate::parse::{self, Signatures};
use crate::secret::{self, Key};

/// Which signing scheme a verifier (or signer) speaks. Chosen explicitly: never guessed from headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `Anchor-Signature: t=…,v1=<hex>` over `v0:{ts}:{body}`, keyed by the secret's UTF-8 bytes.
    Anchor,
    /// Standard Webhooks: `webhook-signature: v1,<base64>` over `{id}.{ts}.{body}`, `whsec_` secrets.
    StandardWebhooks,
}

impl Scheme {
    /// The default tolerance in seconds: 120 for Anchor (the provider's docs), 300 for Standard Webhooks.
    pub const fn default_tolerance(self) -> u64 {
        match self {
            Scheme::Anchor => 120,
            Scheme::StandardWebhooks => 300,
        }
    }

    /// The name bindings and the CLI use: `"anchor"` or `"standard"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Anchor => "anchor",
            Scheme::StandardWebhooks => "standard",
        }
    }

    /// Every header the verifier of this scheme reads, in the canonical casing; any other header is
    /// ignored. The last ones are the other scheme's signature headers, read only when this scheme's own
    /// are missing, to say that the delivery is signed with the other scheme. Bindings whose host hands
    /// headers over one by one may pass only these (the core still matches names case-insensitively and
    /// still sees repeated ones).
    pub const fn header_names(self) -> &'static [&'static str] {
        match self {
            Scheme::Anchor => &[
                parse::ANCHOR_SIGNATURE,
                parse::ANCHOR_TIMESTAMP,
                parse::ANCHOR_DELIVERY_ID,
                parse::ANCHOR_EVENT,
                parse::WEBHOOK_SIGNATURE[0],
                parse::WEBHOOK_SIGNATURE[1],
            ],
            Scheme::StandardWebhooks => &[
                parse::WEBHOOK_ID[0],
                parse::WEBHOOK_TIMESTAMP[0],
                parse::WEBHOOK_SIGNATURE[0],
                parse::WEBHOOK_ID[1],
                parse::WEBHOOK_TIMESTAMP[1],
                parse::WEBHOOK_SIGNATURE[1],
                parse::ANCHOR_SIGNATURE,
            ],
        }
    }

    /// Parses `"anchor"` or `"standard"` (also `"standard-webhooks"`, `"standard_webhooks"`).
    pub fn parse(name: &str) -> Option<Scheme> {
        match name {
            "anchor" => Some(Scheme::Anchor),
            "standard" | "standard-webhooks" | "standard_webhooks" => Some(Scheme::StandardWebhooks),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The default body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Verifies deliveries against one or more secrets (several during a rotation).
///
/// Cheap to share: verification takes `&self`, and the keyed HMAC state of each secret is computed
/// once, here.
#[derive(Clone)]
pub struct Verifier {
    scheme: Scheme,
    keys: Vec<Key>,
    tolerance: u64,
    max_body_bytes: usize,
    /// An Anchor secret is not shaped like an issued one, for the mismatch hint.
    unissued_secret: bool,
}

/// A delivery whose signature and timestamp checked out; borrows from the headers, allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedSignature<'h> {
    /// Index of the first configured secret that matched, so you can see when an old one stops being used.
    pub matched_secret: usize,
    /// The signed timestamp, unix seconds.
    pub timestamp: u64,
    /// `Anchor-Delivery-Id` (Anchor, when present; not signed, so for logs only) or `webhook-id` (Standard
    /// Webhooks; signed).
    pub delivery_id: Option<&'h str>,
}

/// A verified, parsed delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    /// The parsed envelope (Anchor) or body (Standard Webhooks).
    pub event: Event,
    /// Index of the first configured secret that matched, so you can see when an old one stops being used.
    pub matched_secret: usize,
    /// The signed timestamp, unix seconds.
    pub timestamp: u64,
    /// `Anchor-Delivery-Id` (Anchor; `None` when the header is absent) or `webhook-id` (Standard Webhooks;
    /// always set). The Anchor header is **not signed**: a replay within the tolerance can carry any value, so
    /// it is for logs, never for dedupe (use `event.id()`, as [`Receiver`](crate::Receiver) does). The
    /// Standard Webhooks id is signed.
    pub delivery_id: Option<String>,
}

/// What the header stage extracted: everything needed to check tolerance and signature. The signatures
/// themselves are decoded into a `Signatures` owned by the caller, so nothing large is moved around.
struct Signed<'h> {
    timestamp_text: &'h [u8],
    timestamp: u64,
    delivery_id: Option<&'h str>,
    /// Anchor: the unsigned `Anchor-Event` header, checked against the envelope. Standard: unused.
    event_header: Option<&'h str>,
}

impl Verifier {
    /// A verifier for `scheme` with its default tolerance and the 1 MiB body limit.
    ///
    /// Fails with `invalid_secret` when the list is empty or a secret is unusable (the rules are under
    /// "Secrets" in [`decisions`](crate::decisions)).
    pub fn new<I, S>(scheme: Scheme, secrets: I) -> Result<Verifier, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let secrets: Vec<S> = secrets.into_iter().collect();
        let keys = secret::keys(scheme, &secrets)?;
        let issued_shape = |secret: &S| {
            secret.as_ref().len() == 64
                && secret.as_ref().bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let unissued_secret = scheme == Scheme::Anchor && !secrets.iter().all(issued_shape);
        Ok(Verifier {
            scheme,
            keys,
            tolerance: scheme.default_tolerance(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            unissued_secret,
        })
    }

    /// `Verifier::new(Scheme::Anchor, secrets)`.
    pub fn anchor<I: IntoIterator<Item = S>, S: AsRef<str>>(secrets: I) -> Result<Verifier, Error> {
        Verifier::new(Scheme::Anchor, secrets)
    }

    /// `Verifier::new(Scheme::StandardWebhooks, secrets)`.
    pub fn standard<I: IntoIterator<Item = S>, S: AsRef<str>>(secrets: I) -> Result<Verifier, Error> {
        Verifier::new(Scheme::StandardWebhooks, secrets)
    }

    /// Sets the two-sided timestamp tolerance in seconds (the boundary value itself passes).
    pub fn with_tolerance(mut self, seconds: u64) -> Verifier {
        self.tolerance = seconds;
        self
    }

    /// Sets the largest body accepted, in bytes.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Verifier {
        self.max_body_bytes = bytes;
        self
    }

    /// The scheme it verifies.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The two-sided timestamp tolerance, in seconds.
    pub fn tolerance(&self) -> u64 {
        self.tolerance
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// How many secrets are configured.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies a delivery and parses its envelope. `now` is the receiver's clock, unix seconds: the core
    /// never reads the clock itself.
    pub fn verify(
        &self,
        headers: &(impl Headers + ?Sized),
        body: &[u8],
        now: u64,
    ) -> Result<Verified, Error> {
        let (signed, event_header) = self.verify_inner(headers, body, now)?;
        let (event, delivery_id) = match self.scheme {
            Scheme::Anchor => {
                let event = Event::from_anchor_body(body)?;
                if let Some(header) = event_header {
                    if header != event.event_type().as_str() {
                        return Err(Error::invalid_payload(format!(
                            "the unsigned `Anchor-Event` header says {} but the signed envelope's type is {}",
                            shown_event_header(header),
                            quoted(event.event_type().as_str())
                        )));
                    }
                }
                (event, signed.delivery_id.map(str::to_owned))
            }
            Scheme::StandardWebhooks => {
                let id = signed.delivery_id.unwrap_or_default();
                (Event::from_standard_body(id, body)?, Some(id.to_owned()))
            }
        };
        Ok(Verified {
            event,
            matched_secret: signed.matched_secret,
            timestamp: signed.timestamp,
            delivery_id,
        })
    }

    /// Checks headers, timestamp and signature without parsing the body as JSON.
    pub fn verify_signature<'h>(
        &self,
        headers: &'h (impl Headers + ?Sized),
        body: &[u8],
        now: u64,
    ) -> Result<VerifiedSignature<'h>, Error> {
        self.verify_inner(headers, body, now).map(|(signed, _)| signed)
    }

    fn verify_inner<'h>(
        &self,
        headers: &'h (impl Headers + ?Sized),
        body: &[u8],
        now: u64,
    ) -> Result<(VerifiedSignature<'h>, Option<&'h str>), Error> {
        let mut signatures = Signatures::new();
        let signed = match self.scheme {
            Scheme::Anchor => anchor_headers(headers, &mut signatures)?,
            Scheme::StandardWebhooks => standard_headers(headers, &mut signatures)?,
        };
        self.check_tolerance(signed.timestamp, now)?;
        if body.len() > self.max_body_bytes {
            return Err(Error::BodyTooLarge { len: body.len(), limit: self.max_body_bytes });
        }
        let ts = signed.timestamp_text;
        let matched = match self.scheme {
            Scheme::Anchor => self.match_secret(&[b"v0:", ts, b":", body], &signatures),
            Scheme::StandardWebhooks => {
                let id = signed.delivery_id.unwrap_or_default().as_bytes();
                self.match_secret(&[id, b".", ts, b".", body], &signatures)
            }
        };
        let matched_secret = matched.ok_or_else(|| Error::SignatureMismatch {
            signatures: signatures.len(),
            secrets: self.keys.len(),
            hint: mismatch_hint(body, self.unissued_secret),
            unreadable: signatures.unreadable(),
        })?;
        let verified = VerifiedSignature {
            matched_secret,
            timestamp: signed.timestamp,
            delivery_id: signed.delivery_id,
        };
        Ok((verified, signed.event_header))
    }

    fn check_tolerance(&self, timestamp: u64, now: u64) -> Result<(), Error> {
        let tolerance = self.tolerance;
        if now > timestamp && now - timestamp > tolerance {
            return Err(Error::TimestampTooOld { skew: now - timestamp, tolerance });
        }
        if timestamp > now && timestamp - now > tolerance {
            return Err(Error::TimestampTooNew { skew: timestamp - now, tolerance });
        }
        Ok(())
    }

    /// The index of the first secret whose MAC equals any of the signatures. Each comparison is constant
    /// time; which secret matched is not secret, so the loop over secrets may stop early.
    fn match_secret(&self, message: &[&[u8]], signatures: &Signatures) -> Option<usize> {
        self.keys.iter().position(|key| {
            let expected = words(&secret::hmac_parts(key, message));
            let any = signatures
                .as_slice()
                .iter()
                .fold(Choice::from(0), |any, sig| any | words(sig).ct_eq(&expected));
            bool::from(any)
        })
    }
}

/// A MAC as four words, so `subtle` compares it in four constant-time steps instead of 32.
fn words(mac: &[u8; 32]) -> [u64; 4] {
    std::array::from_fn(|i| u64::from_ne_bytes(mac[i * 8..i * 8 + 8].try_into().expect("8-byte chunk")))
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("secrets", &format_args!("[{} redacted]", self.keys.len()))
            .field("tolerance", &self.tolerance)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

fn anchor_headers<'h>(
    headers: &'h (impl Headers + ?Sized),
    signatures: &mut Signatures,
) -> Result<Signed<'h>, Error> {
    const T_ITEM: &str = "the `t=` item of `Anchor-Signature`";
    use parse::{ANCHOR_DELIVERY_ID, ANCHOR_EVENT, ANCHOR_SIGNATURE, ANCHOR_TIMESTAMP};
    let [signature, header_ts, delivery_id, event_header] =
        headers.headers([ANCHOR_SIGNATURE, ANCHOR_TIMESTAMP, ANCHOR_DELIVERY_ID, ANCHOR_EVENT]);
    let signature = parse::checked(ANCHOR_SIGNATURE, signature)?
        .ok_or_else(|| missing(headers, ANCHOR_SIGNATURE, Scheme::StandardWebhooks))?;
    let t = parse::anchor_signature(signature, signatures)?;
    let header_ts = parse::checked(ANCHOR_TIMESTAMP, header_ts)?;
    let delivery_id = parse::checked_str(ANCHOR_DELIVERY_ID, delivery_id)?;
    let event_header = parse::checked_str(ANCHOR_EVENT, event_header)?;
    if header_ts.is_none() && t.is_none() {
        return Err(Error::MissingHeader { header: ANCHOR_TIMESTAMP, signed_with: None });
    }
    if signatures.len() == 0 {
        return Err(signatures.none_readable(ANCHOR_SIGNATURE));
    }
    let with_value = |text: &'h [u8], source| parse::timestamp(text, source).map(|value| (text, value));
    let header_ts = header_ts.map(|text| with_value(text, "`Anchor-Timestamp`")).transpose()?;
    let t = t.map(|text| with_value(text, T_ITEM)).transpose()?;
    if let (Some((header, _)), Some((item, _))) = (header_ts, t) {
        if header != item {
            return Err(Error::TimestampMismatch);
        }
    }
    let (timestamp_text, timestamp) =
        header_ts.or(t).ok_or(Error::MissingHeader { header: ANCHOR_TIMESTAMP, signed_with: None })?;
    Ok(Signed { timestamp_text, timestamp, delivery_id, event_header })
}

fn standard_headers<'h>(
    headers: &'h (impl Headers + ?Sized),
    signatures: &mut Signatures,
) -> Result<Signed<'h>, Error> {
    let [id_name, ts_name, sig_name] =
        [parse::WEBHOOK_ID, parse::WEBHOOK_TIMESTAMP, parse::WEBHOOK_SIGNATURE];
    let require = |names: [&'static str; 2]| {
        parse::read_first(headers, names)?.ok_or_else(|| missing(headers, names[0], Scheme::Anchor))
    };
    let (id_found, id) = require(id_name)?;
    let (ts_found, timestamp_text) = require(ts_name)?;
    let (sig_found, signature) = require(sig_name)?;
    if id.is_empty() {
        return Err(Error::malformed(id_name[0], "the message id is empty"));
    }
    parse::standard_signature(sig_found, signature, signatures)?;
    if signatures.len() == 0 {
        return Err(signatures.none_readable(sig_found));
    }
    let timestamp = parse::timestamp(timestamp_text, ts_found)?;
    let delivery_id = Some(parse::as_str(id_found, id)?);
    Ok(Signed { timestamp_text, timestamp, delivery_id, event_header: None })
}

/// `header` is missing: the error names the signature header of `other` (the other scheme) when the
/// delivery carries it instead. Only on this error path: a verification that succeeds never looks.
fn missing(headers: &(impl Headers + ?Sized), header: &'static str, other: Scheme) -> Error {
    let signature_headers: &[&'static str] = match other {
        Scheme::Anchor => &[parse::ANCHOR_SIGNATURE],
        Scheme::StandardWebhooks => &parse::WEBHOOK_SIGNATURE,
    };
    let found = signature_headers.iter().find(|name| headers.header(name) != HeaderLookup::Missing);
    Error::MissingHeader { header, signed_with: found.map(|name| (other, *name)) }
}

/// The unsigned `Anchor-Event` header as a refusal shows it: quoted when it is as short as an event type,
/// else only its length. Anyone replaying a delivery can set it, and refusals are logged.
fn shown_event_header(header: &str) -> String {
    const LONGEST_SHOWN: usize = 64;
    if header.len() <= LONGEST_SHOWN {
        quoted(header)
    } else {
        format!("a value of {} bytes", header.len())
    }
}

/// `text` in double quotes for a one-line ASCII message (the envelope's type or id may hold any character):
/// printable ASCII as it is, `"` and `\` escaped, `\n`, `\r`, `\t`, and any other character as
/// `\u{..}`. Not `Debug`, whose escaping keeps printable non-ASCII characters but brings the Unicode
/// printable tables into the WebAssembly build: about 1 KB of its 150 KiB budget.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// Looks for the usual reason a genuine delivery fails: the framework parsed the body and the handler
/// passed a re-serialisation (or nothing) instead of the raw bytes, or a secret was pasted wrong.
fn mismatch_hint(body: &[u8], unissued_secret: bool) -> MismatchHint {
    if body.is_empty() {
        return MismatchHint::EmptyBody;
    }
    // Certain where the body's layout is only a guess (Python's `json.dumps` writes `", "` too).
    if unissued_secret {
        return MismatchHint::UnissuedSecretShape;
    }
    if crate::event::is_gzip(body) {
        return MismatchHint::Compressed;
    }
    let reserialised = matches!(body.first(), Some(b'{' | b'[')) && contains(body, b"\n  ")
        || contains(body, b"\": ") && contains(body, b", \"");
    if reserialised {
        MismatchHint::LooksReserialised
    } else {
        MismatchHint::None
    }
}

/// Whether `needle` occurs in the first 4 KiB of `haystack`: a re-serialised body shows its layout at
/// once, and a bounded plain search keeps both the failure path's cost and the WebAssembly build small
/// (a substring-search crate costs about 7 KiB there).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    const SEARCHED: usize = 4096;
    haystack[..haystack.len().min(SEARCHED)].windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_one_line_of_ascii() {
        assert_eq!(quoted("task.completed"), r#""task.completed""#);
        assert_eq!(quoted("a\"b\\c\td\r\n"), r#""a\"b\\c\td\r\n""#);
        assert_eq!(quoted("\0\u{7f}é😀"), r#""\u{0}\u{7f}\u{e9}\u{1f600}""#);
    }

    #[test]
    fn every_mismatch_message_keeps_the_wrong_secret_in_view() {
        // A Python `json.dumps` body (", " and ": ") signed with another secret: the layout hint must not
        // hide the other common cause.
        let body = br#"{"id": "evt_1", "type": "task.completed", "data": {}}"#;
        let (ours, theirs) = ("a".repeat(64), "b".repeat(64));
        let signed = crate::sign(Scheme::Anchor, [theirs], body, 1_716_544_084).unwrap();
        let verifier = Verifier::anchor([ours.as_str()]).unwrap();
        let error = verifier.verify_signature(&signed, body, 1_716_544_084).unwrap_err();
        assert_eq!(
            error.to_string(),
            "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); the body looks \
             re-serialised by a JSON parser: verify the raw bytes as received, before parsing (or is this not \
             the secret of this webhook?)"
        );
    }

    #[test]
    fn a_gzip_body_that_does_not_match_is_named_compressed() {
        // Signed as JSON, compressed on the way (a proxy, or a sender's `Content-Encoding`).
        let json = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let gzipped = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0x56, 0xca, 0x4c];
        let secret = "a".repeat(64);
        let signed = crate::sign(Scheme::Anchor, [secret.as_str()], json, 1_716_544_084).unwrap();
        let verifier = Verifier::anchor([secret.as_str()]).unwrap();
        let error = verifier.verify_signature(&signed, &gzipped, 1_716_544_084).unwrap_err();
        assert_eq!(
            error.to_string(),
            "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s); the body is \
             gzip-compressed: verify the bytes as the sender signed them (a `Content-Encoding` on the way?)"
        );
    }

    #[test]
    fn a_mismatch_beside_an_unreadable_item_keeps_its_hint_and_names_the_item() {
        // Stays a 401 with the body's hint (an integration reads `signature_mismatch` as "decided by the
        // body"), and says that one item, perhaps the one meant to match, could not be read.
        let body = br#"{"id": "evt_1", "type": "task.completed", "data": {}}"#;
        let (ours, theirs) = ("a".repeat(64), "b".repeat(64));
        let signed = crate::sign(Scheme::Anchor, [theirs], body, 1_716_544_084).unwrap();
        let signed: Vec<(&str, String)> = signed
            .iter()
            .map(|(name, value)| match name {
                "Anchor-Signature" => (name, format!("{value},v1=abc")),
                _ => (name, value.to_owned()),
            })
            .collect();
        let error = Verifier::anchor([ours.as_str()]).unwrap().verify_signature(&signed, body, 1_716_544_084);
        let error = error.unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::SignatureMismatch);
        assert_eq!(
            error.to_string(),
            "signature mismatch: none of the 1 signature(s) matches any of the 1 secret(s) (and an item of the \
             header could not be read: a `v1` value is not 64 hex digits); the body looks re-serialised by a JSON \
             parser: verify the raw bytes as received, before parsing (or is this not the secret of this webhook?)"
        );
    }

    #[test]
    fn a_secret_not_shaped_like_an_issued_one_is_named_when_nothing_matches() {
        let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let issued = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
        let signed = crate::sign(Scheme::Anchor, [issued], body, 1_716_544_084).unwrap();
        let message = |secrets: &[&str]| {
            let verifier = Verifier::anchor(secrets).unwrap();
            verifier.verify_signature(&signed, body, 1_716_544_084).map(|_| ()).unwrap_err().to_string()
        };
        let cut = &issued[..63];
        let upper = issued.to_uppercase();
        let line = format!("ANCHOR_SECRET={issued}");
        let other = "0".repeat(64);
        for secrets in [vec![cut], vec![upper.as_str()], vec![other.as_str(), line.as_str()]] {
            assert_eq!(
                message(&secrets),
                format!(
                    "signature mismatch: none of the 1 signature(s) matches any of the {} secret(s); a secret is not \
                     64 lowercase hex characters as issued: copied whole and unchanged?",
                    secrets.len()
                )
            );
        }
        // A well-shaped secret that does not match gets the usual causes.
        assert!(message(&[other.as_str()])
            .ends_with("; was the body parsed and re-serialised? verify the raw bytes; is this the secret of this webhook?"));
    }

    #[test]
    fn a_delivery_of_the_other_scheme_is_named_in_the_missing_header_error() {
        let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let at = 1_716_544_084;
        let anchor_secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
        let standard_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let anchor = Verifier::anchor([anchor_secret]).unwrap();
        let standard = Verifier::standard([standard_secret]).unwrap();
        let standard_delivery = crate::sign(Scheme::StandardWebhooks, [standard_secret], body, at).unwrap();
        let anchor_delivery = crate::sign(Scheme::Anchor, [anchor_secret], body, at).unwrap();
        // As a binding passes them: only the names `header_names()` lists, in lower case.
        let passed = |delivery: &crate::SignedHeaders, scheme: Scheme| -> Vec<(String, String)> {
            delivery
                .iter()
                .filter(|(name, _)| {
                    scheme.header_names().iter().any(|known| known.eq_ignore_ascii_case(name))
                })
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
                .collect()
        };
        let error = anchor.verify(&passed(&standard_delivery, Scheme::Anchor), body, at).unwrap_err();
        assert_eq!(error.code(), crate::ErrorCode::MissingHeader);
        assert_eq!(
            error.to_string(),
            "missing header `Anchor-Signature`: the delivery carries `webhook-signature` instead, so it is signed \
             with the Standard Webhooks scheme: verify it with a verifier of the standard scheme and that webhook's \
             `whsec_` secret"
        );
        let svix = [("svix-id", "msg_1"), ("svix-timestamp", "1716544084"), ("svix-signature", "v1,x")];
        let error = anchor.verify(&svix, body, at).unwrap_err();
        assert!(error.to_string().contains("carries `svix-signature` instead"), "{error}");
        let error =
            standard.verify(&passed(&anchor_delivery, Scheme::StandardWebhooks), body, at).unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing header `webhook-id`: the delivery carries `Anchor-Signature` instead, so it is signed with the \
             Anchor scheme: verify it with a verifier of the anchor scheme and that webhook's 64-hex-digit secret"
        );
        // Without the other scheme's header, the usual text.
        let error = anchor.verify(&[("webhook-id", "msg_1")], body, at).unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing header `Anchor-Signature`: is this a signed delivery, and does your framework pass all headers \
             through?"
        );
    }

    #[test]
    fn an_event_header_that_contradicts_the_envelope_quotes_both_on_one_line() {
        let secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
        let refusal = |envelope_type: &str| {
            let body = format!(
                r#"{{"id":"evt_1","type":{},"created":"2026-05-24T12:18:05Z","data":{{}}}}"#,
                serde_json::Value::from(envelope_type)
            );
            let options = crate::SignOptions { id: None, event_type: Some("task.failed") };
            let signer = crate::Signer::new(Scheme::Anchor, [secret]).unwrap();
            let headers = signer.sign(body.as_bytes(), 1_716_544_084, options).unwrap();
            let verifier = Verifier::anchor([secret]).unwrap();
            verifier.verify(&headers, body.as_bytes(), 1_716_544_084).unwrap_err().to_string()
        };
        let prefix = "invalid payload (the signature is valid): the unsigned `Anchor-Event` header says \"task.failed\" \
                      but the signed envelope's type is ";
        assert_eq!(
            refusal("task.completed\nX-Injected: 1"),
            format!(r#"{prefix}"task.completed\nX-Injected: 1""#)
        );
        assert_eq!(refusal("tâche.\"finie\""), format!(r#"{prefix}"t\u{{e2}}che.\"finie\"""#));
    }

    #[test]
    fn a_long_event_header_is_shown_by_its_length_only() {
        let secret = "36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6";
        let body = br#"{"id":"evt_1","type":"task.completed","created":"2026-05-24T12:18:05Z","data":{}}"#;
        let verifier = Verifier::anchor([secret]).unwrap();
        let signer = crate::Signer::new(Scheme::Anchor, [secret]).unwrap();
        let refusal = |event_header: String| {
            let options = crate::SignOptions { id: None, event_type: Some(&event_header) };
            let headers = signer.sign(body, 1_716_544_084, options).unwrap();
            verifier.verify(&headers, body, 1_716_544_084).unwrap_err().to_string()
        };
        let expected = |shown: &str| {
            format!(
                "invalid payload (the signature is valid): the unsigned `Anchor-Event` header says {shown} but the \
                 signed envelope's type is \"task.completed\""
            )
        };
        assert_eq!(refusal("x".repeat(64)), expected(&format!("\"{}\"", "x".repeat(64))));
        assert_eq!(
            refusal(format!("task.failed <script>{}", "A".repeat(8000))),
            expected("a value of 8020 bytes")
        );
    }
}
