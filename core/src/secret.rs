//! Secret validation and the pre-keyed HMAC state.

use std::fmt;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Error, SecretProblem};
use crate::Scheme;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The `whsec_` prefix of Standard Webhooks secrets.
pub const STANDARD_SECRET_PREFIX: &str = "whsec_";

/// The prefixes of Standard Webhooks' asymmetric keys (ed25519, `v1a` signatures): a public key `whpk_`
/// and a secret key `whsk_`. Neither can key an HMAC, and no secret of either scheme starts like this.
const ASYMMETRIC_KEY_PREFIXES: [&str; 2] = ["whpk_", "whsk_"];

/// Standard base64 that accepts the secret with or without `=` padding, and with non-zero unused bits in
/// its last character (`whsec_AB` is the byte 0x00, as `whsec_AA`): the reference libraries (Python's
/// `base64`, Node's `Buffer`, Go's `StdEncoding`) decode such a secret without complaint, so a secret they
/// accept must give the same key here.
pub(crate) const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// One configured secret, kept only as its keyed HMAC state (ipad/opad already absorbed), so a
/// verification does no key setup. The state is key-equivalent; the `zeroize` feature of `hmac`/`sha2`
/// wipes it on drop.
#[derive(Clone)]
pub(crate) struct Key {
    mac: HmacSha256,
}

impl Key {
    pub(crate) fn new(scheme: Scheme, index: usize, secret: &str) -> Result<Key, Error> {
        let problem = |reason| Error::InvalidSecret { index, reason };
        check_shape(secret).map_err(problem)?;
        if ASYMMETRIC_KEY_PREFIXES.iter().any(|prefix| secret.starts_with(prefix)) {
            return Err(problem(SecretProblem::AsymmetricKey));
        }
        let mac = match scheme {
            Scheme::Anchor => {
                if secret.starts_with(STANDARD_SECRET_PREFIX) {
                    return Err(problem(SecretProblem::StandardSecretForAnchor));
                }
                keyed(secret.as_bytes())
            }
            Scheme::StandardWebhooks => {
                let (encoded, not_base64) = match secret.strip_prefix(STANDARD_SECRET_PREFIX) {
                    Some(rest) => (rest, SecretProblem::NotBase64),
                    None if looks_like_anchor_secret(secret) => {
                        return Err(problem(SecretProblem::AnchorSecretForStandard))
                    }
                    None => (secret, SecretProblem::UnprefixedNotBase64),
                };
                let key = Zeroizing::new(BASE64_LENIENT.decode(encoded).map_err(|_| problem(not_base64))?);
                if key.is_empty() {
                    return Err(problem(SecretProblem::EmptyKey));
                }
                keyed(&key)
            }
        };
        Ok(Key { mac })
    }

    /// A fresh MAC to feed the message into: a copy of the pre-keyed state.
    #[inline]
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key([redacted])")
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (long keys are hashed first), so this cannot fail.
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
}

fn check_shape(secret: &str) -> Result<(), SecretProblem> {
    if secret.is_empty() {
        return Err(SecretProblem::Empty);
    }
    if secret.trim() != secret {
        return Err(SecretProblem::SurroundingWhitespace);
    }
    let bytes = secret.as_bytes();
    let quoted = bytes.len() >= 2 && matches!(bytes[0], b'"' | b'\'') && bytes[bytes.len() - 1] == bytes[0];
    if quoted {
        return Err(SecretProblem::Quoted);
    }
    if secret.chars().any(char::is_control) {
        return Err(SecretProblem::ControlCharacter);
    }
    if secret.chars().any(is_invisible) {
        return Err(SecretProblem::InvisibleCharacter);
    }
    Ok(())
}

/// Characters that print as nothing and are not whitespace (so `trim` keeps them): a byte order mark
/// left by a file saved as "UTF-8 with BOM", zero-width characters copied from a web page. No secret of
/// either scheme contains one.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

fn looks_like_anchor_secret(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Builds the keys for a list of secrets, refusing an empty list.
pub(crate) fn keys<S: AsRef<str>>(scheme: Scheme, secrets: &[S]) -> Result<Vec<Key>, Error> {
    if secrets.is_empty() {
        return Err(Error::InvalidSecret { index: 0, reason: SecretProblem::NoSecrets });
    }
    // Allocated once at its final size: a `Vec` that grows moves its keys and frees the old block without
    // wiping it, leaving copies of the keyed state in freed memory (`collect` on a `Result` iterator
    // cannot know the size up front).
    let mut keys = Vec::with_capacity(secrets.len());
    for (index, secret) in secrets.iter().enumerate() {
        keys.push(Key::new(scheme, index, secret.as_ref())?);
    }
    Ok(keys)
}

/// Computes HMAC-SHA256 over the concatenation of `parts` with a pre-keyed state.
#[inline]
pub(crate) fn hmac_parts(key: &Key, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = key.mac();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}
