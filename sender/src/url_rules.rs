//! Webhook URL rules (SPEC §7): which URLs the sender accepts as webhook targets, and which resolved
//! addresses it is willing to connect to.
//!
//! Two checks, at two moments:
//!
//! * [`validate_webhook_url`] runs when a webhook is created or its URL updated. It parses the URL with the
//!   WHATWG parser of the [`url`] crate and applies the rules below, in this order (the first failure wins
//!   and names its rule in [`UrlRejection::rule`]):
//!
//!   1. `too_long`: more than [`MAX_URL_LEN`] (2048) characters, counted on the input and again on the
//!      normalised URL that would be stored and called;
//!   2. `invalid_url`: the WHATWG parser refuses it (this includes out-of-range IPv4 literals such as
//!      `256.0.0.1` and IPv6 zone identifiers);
//!   3. `https_required`: any scheme other than `https` (`http`, `ftp`, `javascript:`, `file:`, ...), with
//!      the single exception of `http` to a loopback host when [`UrlPolicy::allow_insecure_localhost`] is
//!      on;
//!   4. `userinfo`: a user name or password in the URL;
//!   5. `missing_host`: no host at all;
//!   6. host rules: `metadata_host` (cloud instance-metadata endpoints), `aws_credentials_endpoint` (AWS
//!      STS, IAM and EKS-auth endpoints, the ECS and EKS pod-identity credential agents), `local_hostname`
//!      (`localhost`, `*.localhost`, `*.local`, `*.internal`, `*.localdomain`, `*.home.arpa` and
//!      single-label names, which only resolve through hosts files and search domains) and `blocked_ip`
//!      (IP literals in a non-public range, see [`is_blocked_ip`]).
//!
//! * [`check_resolved_addr`] runs at delivery time on **every** address DNS returns for the host, before
//!   connecting, so that a public name that later resolves to a private address (DNS rebinding) is still
//!   refused.
//!
//! # IP literals in every spelling
//!
//! For the special schemes (`http`, `https`, ...) the WHATWG host parser turns every IPv4 spelling into a
//! canonical address: decimal (`https://2130706433/`), hex (`0x7f000001`, `0x7f.0.0.1`), octal
//! (`0177.0.0.1`, `017700000001`), short forms (`127.1`, `10.1`), a trailing dot (`127.0.0.1.`),
//! percent-encoded and full-width digits. IPv6 literals are likewise parsed into an [`Ipv6Addr`] whatever the
//! compression. This module relies on that parse and classifies the resulting [`Host::Ipv4`] /
//! [`Host::Ipv6`]; it never pattern-matches host strings for addresses. IPv6 addresses that embed an IPv4
//! address (IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`, IPv4-compatible `::/96`, NAT64
//! `64:ff9b::/96`, 6to4 `2002::/16`) are blocked when the embedded IPv4 address is.
//!
//! Host names are compared after the parser's IDNA mapping (lower case, full-width and ideographic dots
//! folded, percent-decoding) and after removing trailing dots, so `LOCALHOST.`, `localhost。` and
//! `%6c%6fcalhost` are all `localhost`.
//!
//! # Local testing
//!
//! [`UrlPolicy::allow_insecure_localhost`] (off by default) lets a sender started explicitly for local
//! testing deliver to loopback targets, over `http` or `https`: `http://127.0.0.1:PORT/...`,
//! `https://[::1]:PORT/...`, `http://localhost:PORT/...`. It relaxes only that: loopback hosts (a loopback
//! address in any spelling, or the name `localhost`) stop being refused, and for them, and only them, the
//! scheme may also be `http`. HTTPS stays allowed, since a local receiver with a development certificate is
//! as legitimate a test target as a plain-HTTP one and refusing it would only push users to plain HTTP.
//! Private ranges, `0.0.0.0`, metadata hosts, other local names and user-info stay refused, and
//! [`check_resolved_addr`] then accepts loopback addresses in addition to public ones. A server enabling
//! it should say so loudly at start-up.
//!
//! # The stored URL
//!
//! An accepted URL comes back in the parser's normalised form, the string the rules were checked on, and
//! that is the one to store, show and call: scheme and host lower-cased, IP literals in their canonical
//! form (`https://0x7f000001/x` is `https://127.0.0.1/x`, `[0:0::1]` is `[::1]`), a default port dropped,
//! `.`/`..` path segments resolved, characters outside the URL grammar percent-encoded. Storing the input
//! and calling it later would let any difference between two parsers reach a target these rules never
//! saw.
//!
//! # Messages
//!
//! [`UrlRejection`]'s `Display` starts with the rule name (`"blocked_ip: ..."`) and is meant to be returned
//! verbatim in the API's 400 body. It may repeat the (normalised) host or IP address, never the user-info,
//! path or query of the URL, which can carry secrets.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest webhook URL accepted, in characters.
pub const MAX_URL_LEN: usize = 2048;

/// What the URL rules relax. The default (`allow_insecure_localhost: false`) is the production policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Allow `http` (and `https`) targets on loopback hosts (`127.0.0.0/8`, `::1`, `localhost`), for a
    /// sender started explicitly for local testing. Nothing else is relaxed. Off by default.
    pub allow_insecure_localhost: bool,
}

impl UrlPolicy {
    /// The production policy: HTTPS to public hosts only. Same as `UrlPolicy::default()`.
    pub const STRICT: UrlPolicy = UrlPolicy { allow_insecure_localhost: false };
    /// The local-testing policy: additionally allows loopback targets (`127.0.0.0/8`, `::1`, `localhost`)
    /// over `http` or `https`, e.g. `http://127.0.0.1:PORT`, `https://[::1]:PORT`, `http://localhost:PORT`.
    pub const LOCAL_TESTING: UrlPolicy = UrlPolicy { allow_insecure_localhost: true };
}

/// Why a webhook URL (or a resolved address) was refused. One variant per rule; [`UrlRejection::rule`]
/// gives its stable snake_case name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlRejection {
    /// `invalid_url`: the WHATWG URL parser refused the input.
    InvalidUrl(url::ParseError),
    /// `too_long`: longer than [`MAX_URL_LEN`] characters (`len` is the length that was measured).
    TooLong {
        /// Length of the input, or of its normalised form, in characters.
        len: usize,
    },
    /// `https_required`: the scheme is not `https` (and not the `http`-to-loopback exception of
    /// [`UrlPolicy::allow_insecure_localhost`]).
    HttpsRequired {
        /// The URL's scheme, lower case.
        scheme: String,
    },
    /// `userinfo`: the URL carries a user name and/or password. Neither is kept here.
    Userinfo,
    /// `missing_host`: the URL has no host.
    MissingHost,
    /// `blocked_ip`: the host (or a resolved address) is in a non-public range.
    BlockedIp {
        /// The address as parsed or resolved.
        ip: IpAddr,
        /// The blocked range, with its name, e.g. `"10.0.0.0/8 (private)"`.
        range: &'static str,
        /// For IPv6 forms embedding an IPv4 address: that address and the embedding (e.g. `"IPv4-mapped"`).
        embedded: Option<(Ipv4Addr, &'static str)>,
    },
    /// `metadata_host`: a cloud instance-metadata endpoint (`169.254.169.254`, `metadata.google.internal`,
    /// `metadata.azure.com`, ...).
    MetadataHost {
        /// The normalised host name or address.
        host: String,
    },
    /// `local_hostname`: a name that only resolves locally (`localhost`, `*.local`, `*.internal`, ...).
    LocalHostname {
        /// The normalised host name (lower case, no trailing dot).
        host: String,
    },
    /// `aws_credentials_endpoint`: an AWS STS / IAM / EKS-auth endpoint or credential agent address.
    AwsCredentialsEndpoint {
        /// The normalised host name or address.
        host: String,
    },
}

impl UrlRejection {
    /// The stable snake_case name of the rule that failed.
    pub fn rule(&self) -> &'static str {
        match self {
            UrlRejection::InvalidUrl(_) => "invalid_url",
            UrlRejection::TooLong { .. } => "too_long",
            UrlRejection::HttpsRequired { .. } => "https_required",
            UrlRejection::Userinfo => "userinfo",
            UrlRejection::MissingHost => "missing_host",
            UrlRejection::BlockedIp { .. } => "blocked_ip",
            UrlRejection::MetadataHost { .. } => "metadata_host",
            UrlRejection::LocalHostname { .. } => "local_hostname",
            UrlRejection::AwsCredentialsEndpoint { .. } => "aws_credentials_endpoint",
        }
    }
}

impl fmt::Display for UrlRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.rule())?;
        match self {
            UrlRejection::InvalidUrl(e) => write!(f, "the webhook URL could not be parsed ({e})"),
            UrlRejection::TooLong { len } => {
                write!(f, "the webhook URL is {len} characters long; at most {MAX_URL_LEN} are allowed")
            }
            UrlRejection::HttpsRequired { scheme } => write!(
                f,
                "webhook URLs must use https, not `{scheme}` (plain http is only accepted for loopback \
                 targets by a sender started for local testing)"
            ),
            UrlRejection::Userinfo => {
                f.write_str("webhook URLs must not contain a user name or password before the host")
            }
            UrlRejection::MissingHost => f.write_str("the webhook URL has no host"),
            UrlRejection::BlockedIp { ip, range, embedded: None } => {
                write!(f, "{ip} is in {range}; webhooks can only target public addresses")
            }
            UrlRejection::BlockedIp { ip, range, embedded: Some((v4, how)) } => write!(
                f,
                "{ip} embeds the IPv4 address {v4} ({how}), which is in {range}; webhooks can only target \
                 public addresses"
            ),
            UrlRejection::MetadataHost { host } => {
                write!(f, "{host} is a cloud instance-metadata endpoint and cannot be a webhook target")
            }
            UrlRejection::LocalHostname { host } => write!(
                f,
                "{host} is a local or internal host name (localhost, *.local, *.internal, single-label \
                 names, ...) and cannot be a webhook target"
            ),
            UrlRejection::AwsCredentialsEndpoint { host } => write!(
                f,
                "{host} is an AWS credentials endpoint (STS, IAM, EKS auth or a credential agent) and \
                 cannot be a webhook target"
            ),
        }
    }
}

impl std::error::Error for UrlRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UrlRejection::InvalidUrl(e) => Some(e),
            _ => None,
        }
    }
}

/// Validates a webhook URL at create / update time and returns it parsed and normalised (the form to
/// store and call). See the [module documentation](self) for the rules and their order.
pub fn validate_webhook_url(url: &str, policy: UrlPolicy) -> Result<Url, UrlRejection> {
    let len = url.chars().count();
    if len > MAX_URL_LEN {
        return Err(UrlRejection::TooLong { len });
    }
    let parsed = Url::parse(url).map_err(UrlRejection::InvalidUrl)?;
    // The serialisation is ASCII (percent-encoding, punycode), so bytes are characters.
    let len = parsed.as_str().len();
    if len > MAX_URL_LEN {
        return Err(UrlRejection::TooLong { len });
    }

    let scheme = parsed.scheme();
    let http_allowed = policy.allow_insecure_localhost && scheme == "http";
    if scheme != "https" && !http_allowed {
        return Err(UrlRejection::HttpsRequired { scheme: scheme.to_owned() });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRejection::Userinfo);
    }
    let host = parsed.host().ok_or(UrlRejection::MissingHost)?;

    let loopback = is_loopback_host(&host);
    if !(policy.allow_insecure_localhost && loopback) {
        check_host(&host)?;
    }
    if scheme != "https" && !loopback {
        return Err(UrlRejection::HttpsRequired { scheme: scheme.to_owned() });
    }
    Ok(parsed)
}

/// Checks one address a webhook host resolved to, at delivery time (call it for every address DNS
/// returns, and connect only to addresses that pass, so DNS rebinding cannot reach internal services).
///
/// Public addresses pass. Blocked ones (see [`is_blocked_ip`]) fail with `blocked_ip`, or with
/// `metadata_host` / `aws_credentials_endpoint` for those well-known addresses; with
/// [`UrlPolicy::allow_insecure_localhost`], loopback addresses pass too (and nothing else more).
pub fn check_resolved_addr(ip: IpAddr, policy: UrlPolicy) -> Result<(), UrlRejection> {
    if policy.allow_insecure_localhost && ip.to_canonical().is_loopback() {
        return Ok(());
    }
    match classify_ip(ip) {
        Some(rejection) => Err(rejection),
        None => Ok(()),
    }
}

/// Whether `ip` is an address webhooks must never target: loopback, private, link-local, unspecified,
/// CGNAT, multicast, broadcast and other reserved / non-global ranges (IPv4 and IPv6, including IPv6
/// unique-local `fc00::/7`), and IPv6 forms embedding such an IPv4 address (IPv4-mapped,
/// IPv4-translated, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`). Cloud metadata and AWS
/// credential-agent addresses are all inside these ranges.
pub fn is_blocked_ip(ip: IpAddr) -> bool {
    classify_ip(ip).is_some()
}

// ---------------------------------------------------------------------------------------------------------
// Hosts

/// Host names of cloud instance-metadata services (compared after normalisation).
const METADATA_HOSTS: &[&str] = &[
    "metadata.google.internal", // GCP
    "metadata.goog",            // GCP
    "metadata.azure.com",       // Azure (not under *.internal, so listed explicitly)
    "metadata",                 // GCP short name, resolved through the search domain
    "instance-data",            // AWS EC2 short name
    "instance-data.ec2.internal",
];

/// Addresses of cloud instance-metadata services.
const METADATA_V4: &[Ipv4Addr] = &[
    Ipv4Addr::new(169, 254, 169, 254), // AWS, GCP, Azure, OpenStack, DigitalOcean, ...
    Ipv4Addr::new(100, 100, 100, 200), // Alibaba Cloud
    Ipv4Addr::new(192, 0, 0, 192),     // Oracle Cloud (legacy)
];
const METADATA_V6: &[Ipv6Addr] = &[
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), // AWS IMDS over IPv6
];

/// AWS credential agents reachable by address.
const AWS_CREDENTIALS_V4: &[Ipv4Addr] = &[
    Ipv4Addr::new(169, 254, 170, 2),  // ECS task credentials endpoint
    Ipv4Addr::new(169, 254, 170, 23), // EKS Pod Identity agent
];
const AWS_CREDENTIALS_V6: &[Ipv6Addr] = &[
    Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23), // EKS Pod Identity agent
];

/// AWS endpoint domains, and the service labels under them that hand out or manage credentials: STS
/// (`sts.amazonaws.com`, `sts.<region>.amazonaws.com`, `sts-fips.<region>.amazonaws.com`, GovCloud,
/// China `*.amazonaws.com.cn`, dual-stack `*.api.aws`), IAM (`iam.amazonaws.com`, `iam-fips...`,
/// `iam.us-gov...`, `iam.cn-north-1.amazonaws.com.cn`) and EKS auth (`eks-auth.<region>.api.aws`).
/// A service label anywhere under these domains matches (`sts.dualstack.<region>...`, VPC endpoint names).
const AWS_DOMAINS: &[&str] = &["amazonaws.com", "amazonaws.com.cn", "api.aws"];
const AWS_CREDENTIAL_SERVICES: &[&str] = &["sts", "sts-fips", "iam", "iam-fips", "eks-auth", "eks-auth-fips"];

/// Domains that only resolve locally; the names themselves and every name under them are refused.
const LOCAL_DOMAINS: &[&str] = &["localhost", "local", "internal", "localdomain", "home.arpa"];

/// Lower-cases and removes trailing dots (`LocalHost.` → `localhost`). The parser already applied IDNA
/// mapping to domains of special-scheme URLs; lower-casing again keeps this safe for any input.
fn normalise_host_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `name` equals `domain` or is a subdomain of it (both normalised).
fn is_under(name: &str, domain: &str) -> bool {
    name == domain
        || (name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.')
}

/// Whether the host is a loopback target for the local-testing exception: a loopback IP literal
/// (`127.0.0.0/8`, `::1`, `::ffff:127.0.0.0/104`) or the name `localhost`.
fn is_loopback_host(host: &Host<&str>) -> bool {
    match *host {
        Host::Domain(name) => normalise_host_name(name) == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(ip).to_canonical().is_loopback(),
    }
}

fn check_host(host: &Host<&str>) -> Result<(), UrlRejection> {
    let rejection = match *host {
        Host::Ipv4(ip) => classify_ip(IpAddr::V4(ip)),
        Host::Ipv6(ip) => classify_ip(IpAddr::V6(ip)),
        Host::Domain(name) => classify_domain(name),
    };
    match rejection {
        Some(rejection) => Err(rejection),
        None => Ok(()),
    }
}

fn classify_domain(name: &str) -> Option<UrlRejection> {
    let name = normalise_host_name(name);
    if name.is_empty() {
        return Some(UrlRejection::MissingHost);
    }
    // Special schemes never produce a domain that is an IP literal; other inputs might.
    if let Ok(ip) = name.parse::<IpAddr>() {
        return classify_ip(ip);
    }
    if METADATA_HOSTS.contains(&name.as_str()) {
        return Some(UrlRejection::MetadataHost { host: name });
    }
    for domain in AWS_DOMAINS {
        if name.len() > domain.len() && is_under(&name, domain) {
            let labels = &name[..name.len() - domain.len() - 1];
            if labels.split('.').any(|label| AWS_CREDENTIAL_SERVICES.contains(&label)) {
                return Some(UrlRejection::AwsCredentialsEndpoint { host: name });
            }
        }
    }
    // Single-label names (`intranet`, `localhost`) only resolve through hosts files and search domains.
    if !name.contains('.') || LOCAL_DOMAINS.iter().any(|domain| is_under(&name, domain)) {
        return Some(UrlRejection::LocalHostname { host: name });
    }
    None
}

// ---------------------------------------------------------------------------------------------------------
// Addresses

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Blocked IPv4 ranges: (network, prefix length 1..=32, description). More specific entries come first.
const BLOCKED_V4: &[(u32, u32, &str)] = &[
    (v4(0, 0, 0, 0), 8, "0.0.0.0/8 (unspecified / \"this network\")"),
    (v4(10, 0, 0, 0), 8, "10.0.0.0/8 (private)"),
    (v4(100, 64, 0, 0), 10, "100.64.0.0/10 (carrier-grade NAT)"),
    (v4(127, 0, 0, 0), 8, "127.0.0.0/8 (loopback)"),
    (v4(169, 254, 0, 0), 16, "169.254.0.0/16 (link-local)"),
    (v4(172, 16, 0, 0), 12, "172.16.0.0/12 (private)"),
    (v4(192, 0, 0, 0), 24, "192.0.0.0/24 (IETF protocol assignments)"),
    (v4(192, 0, 2, 0), 24, "192.0.2.0/24 (documentation)"),
    (v4(192, 168, 0, 0), 16, "192.168.0.0/16 (private)"),
    (v4(198, 18, 0, 0), 15, "198.18.0.0/15 (benchmarking)"),
    (v4(198, 51, 100, 0), 24, "198.51.100.0/24 (documentation)"),
    (v4(203, 0, 113, 0), 24, "203.0.113.0/24 (documentation)"),
    (v4(224, 0, 0, 0), 4, "224.0.0.0/4 (multicast)"),
    (v4(255, 255, 255, 255), 32, "255.255.255.255 (broadcast)"),
    (v4(240, 0, 0, 0), 4, "240.0.0.0/4 (reserved)"),
];

/// Blocked IPv6 ranges other than the IPv4-embedding ones: (network, prefix length 1..=128, description).
const BLOCKED_V6: &[(u128, u32, &str)] = &[
    (0, 128, ":: (unspecified)"),
    (1, 128, "::1 (loopback)"),
    (0x0064_ff9b_0001 << 80, 48, "64:ff9b:1::/48 (local-use NAT64)"),
    (0x0100 << 112, 64, "100::/64 (discard-only)"),
    (0x2001_0000 << 96, 32, "2001::/32 (Teredo)"),
    (0x2001_0db8 << 96, 32, "2001:db8::/32 (documentation)"),
    (0x3fff << 112, 20, "3fff::/20 (documentation)"),
    (0xfc00 << 112, 7, "fc00::/7 (unique-local)"),
    (0xfe80 << 112, 10, "fe80::/10 (link-local)"),
    (0xfec0 << 112, 10, "fec0::/10 (site-local, deprecated)"),
    (0xff00 << 112, 8, "ff00::/8 (multicast)"),
];

fn blocked_v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let ip = u32::from(ip);
    BLOCKED_V4.iter().find(|&&(net, prefix, _)| (ip ^ net) >> (32 - prefix) == 0).map(|&(_, _, name)| name)
}

fn blocked_v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let ip = u128::from(ip);
    BLOCKED_V6.iter().find(|&&(net, prefix, _)| (ip ^ net) >> (128 - prefix) == 0).map(|&(_, _, name)| name)
}

/// The IPv4 address an IPv6 address embeds, and how, for the forms that carry one.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<(Ipv4Addr, &'static str)> {
    let s = ip.segments();
    let o = ip.octets();
    let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some((low32, "IPv4-mapped ::ffff:0:0/96")),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some((low32, "IPv4-translated ::ffff:0:0:0/96")),
        [0, 0, 0, 0, 0, 0, _, _] => Some((low32, "IPv4-compatible ::/96")),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some((low32, "NAT64 64:ff9b::/96")),
        [0x2002, ..] => Some((Ipv4Addr::new(o[2], o[3], o[4], o[5]), "6to4 2002::/16")),
        _ => None,
    }
}

/// The most specific rejection for an address, or `None` if it is public.
fn classify_ip(ip: IpAddr) -> Option<UrlRejection> {
    // The IPv4 address whose classification applies: the address itself or the one an IPv6 form embeds.
    let (v4, embedded) = match ip {
        IpAddr::V4(v4) => (Some(v4), None),
        IpAddr::V6(v6) => {
            if METADATA_V6.contains(&v6) {
                return Some(UrlRejection::MetadataHost { host: ip.to_string() });
            }
            if AWS_CREDENTIALS_V6.contains(&v6) {
                return Some(UrlRejection::AwsCredentialsEndpoint { host: ip.to_string() });
            }
            // `::` and `::1` are in `::/96` but are IPv6 addresses of their own.
            if let Some(range) = blocked_v6_range(v6) {
                return Some(UrlRejection::BlockedIp { ip, range, embedded: None });
            }
            match embedded_ipv4(v6) {
                Some((v4, how)) => (Some(v4), Some((v4, how))),
                None => (None, None),
            }
        }
    };
    let v4 = v4?;
    if METADATA_V4.contains(&v4) {
        return Some(UrlRejection::MetadataHost { host: ip.to_string() });
    }
    if AWS_CREDENTIALS_V4.contains(&v4) {
        return Some(UrlRejection::AwsCredentialsEndpoint { host: ip.to_string() });
    }
    blocked_v4_range(v4).map(|range| UrlRejection::BlockedIp { ip, range, embedded })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: UrlPolicy = UrlPolicy::STRICT;
    const L: UrlPolicy = UrlPolicy::LOCAL_TESTING;
    const OK: Result<(), &str> = Ok(());

    /// A secret that user-info rows carry; no message may repeat it.
    const SECRET: &str = "hunter2";

    #[rustfmt::skip]
    const TABLE: &[(&str, UrlPolicy, Result<(), &str>)] = &[
        // --- allowed public targets
        ("https://example.com/hooks", S, OK),
        ("https://hooks.example.com:8443/a?b=c", S, OK),
        ("https://[2606:4700::1111]/", S, OK),
        ("https://8.8.8.8/", S, OK),
        ("https://1.1.1.1:443/webhook", S, OK),
        ("https://EXAMPLE.com./hooks", S, OK),
        ("https://api.example.org/webhooks/anchor#fragment", S, OK),
        ("https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/hook", S, OK),
        ("https://sts.example.com/", S, OK),
        ("https://local.example.com/", S, OK),
        ("https://internal.example.com/hooks", S, OK),
        ("https://mylocalhost.com/", S, OK),
        ("https://172.32.0.1/", S, OK),
        ("https://100.128.0.1/", S, OK),
        ("https://[64:ff9b::808:808]/", S, OK),
        ("https://[2002:808:808::1]/", S, OK),
        ("https://[::ffff:8.8.8.8]/", S, OK),
        ("https://example.com/hooks", L, OK),
        // --- scheme
        ("http://example.com/hooks", S, Err("https_required")),
        ("HTTP://EXAMPLE.COM/", S, Err("https_required")),
        ("ftp://example.com/file", S, Err("https_required")),
        ("javascript:alert(1)", S, Err("https_required")),
        ("file:///etc/passwd", S, Err("https_required")),
        ("ws://example.com/socket", S, Err("https_required")),
        ("data:text/plain,hello", S, Err("https_required")),
        ("http://127.0.0.1:8080/x", S, Err("https_required")),
        // --- unparseable
        ("", S, Err("invalid_url")),
        ("not a url", S, Err("invalid_url")),
        ("https://", S, Err("invalid_url")),
        ("https://exa mple.com/", S, Err("invalid_url")),
        ("https://[::1/", S, Err("invalid_url")),
        ("https://example.com:99999/", S, Err("invalid_url")),
        ("https://256.0.0.1/", S, Err("invalid_url")),
        ("https://1.2.3.4.5/", S, Err("invalid_url")),
        ("https://[fe80::1%25eth0]/", S, Err("invalid_url")),
        // --- user-info
        ("https://user:hunter2@example.com/", S, Err("userinfo")),
        ("https://user@example.com/", S, Err("userinfo")),
        ("https://:hunter2@example.com/", S, Err("userinfo")),
        ("https://user:hunter2@127.0.0.1/", S, Err("userinfo")),
        // --- IPv4 loopback in every spelling
        ("https://127.0.0.1/", S, Err("blocked_ip")),
        ("https://127.0.0.1:8443/hooks", S, Err("blocked_ip")),
        ("https://2130706433/", S, Err("blocked_ip")),
        ("https://0x7f000001/", S, Err("blocked_ip")),
        ("https://0x7f.0.0.1/", S, Err("blocked_ip")),
        ("https://0X7F.1/", S, Err("blocked_ip")),
        ("https://0177.0.0.1/", S, Err("blocked_ip")),
        ("https://017700000001/", S, Err("blocked_ip")),
        ("https://127.000.000.001/", S, Err("blocked_ip")),
        ("https://127.1/", S, Err("blocked_ip")),
        ("https://127.0.0.1./", S, Err("blocked_ip")),
        ("https://127.255.255.254/", S, Err("blocked_ip")),
        ("https://%31%32%37.0.0.1/", S, Err("blocked_ip")),
        ("https://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/", S, Err("blocked_ip")),
        // --- private
        ("https://10.0.0.1/", S, Err("blocked_ip")),
        ("https://10.1/", S, Err("blocked_ip")),
        ("https://167772161/", S, Err("blocked_ip")),
        ("https://0xa.0.0.1/", S, Err("blocked_ip")),
        ("https://012.0.0.1/", S, Err("blocked_ip")),
        ("https://172.16.0.1/", S, Err("blocked_ip")),
        ("https://172.31.255.255/", S, Err("blocked_ip")),
        ("https://192.168.1.1/", S, Err("blocked_ip")),
        ("https://0xc0a80101/", S, Err("blocked_ip")),
        ("https://192.168.257/", S, Err("blocked_ip")),
        ("https://0300.0250.1.1/", S, Err("blocked_ip")),
        // --- link-local, unspecified, CGNAT, multicast, broadcast, reserved
        ("https://169.254.1.1/", S, Err("blocked_ip")),
        ("https://[fe80::1]/", S, Err("blocked_ip")),
        ("https://[FE80::ABCD:1]/", S, Err("blocked_ip")),
        ("https://0.0.0.0/", S, Err("blocked_ip")),
        ("https://0/", S, Err("blocked_ip")),
        ("https://0.1.2.3/", S, Err("blocked_ip")),
        ("https://[::]/", S, Err("blocked_ip")),
        ("https://[0:0:0:0:0:0:0:0]/", S, Err("blocked_ip")),
        ("https://100.64.0.1/", S, Err("blocked_ip")),
        ("https://100.127.255.255/", S, Err("blocked_ip")),
        ("https://1681915905/", S, Err("blocked_ip")),
        ("https://224.0.0.1/", S, Err("blocked_ip")),
        ("https://239.255.255.250/", S, Err("blocked_ip")),
        ("https://[ff02::1]/", S, Err("blocked_ip")),
        ("https://[ff0e::101]/", S, Err("blocked_ip")),
        ("https://255.255.255.255/", S, Err("blocked_ip")),
        ("https://4294967295/", S, Err("blocked_ip")),
        ("https://0xffffffff/", S, Err("blocked_ip")),
        ("https://240.0.0.1/", S, Err("blocked_ip")),
        // --- IPv6 loopback and unique-local
        ("https://[::1]/", S, Err("blocked_ip")),
        ("https://[::1]:8443/", S, Err("blocked_ip")),
        ("https://[0:0:0:0:0:0:0:1]/", S, Err("blocked_ip")),
        ("https://[0000:0000::0001]/", S, Err("blocked_ip")),
        ("https://[fc00::1]/", S, Err("blocked_ip")),
        ("https://[fd12:3456:789a::1]/", S, Err("blocked_ip")),
        // --- IPv6 forms embedding a blocked IPv4
        ("https://[::ffff:127.0.0.1]/", S, Err("blocked_ip")),
        ("https://[::ffff:7f00:1]/", S, Err("blocked_ip")),
        ("https://[::FFFF:7F00:0001]/", S, Err("blocked_ip")),
        ("https://[0:0:0:0:0:ffff:c0a8:101]/", S, Err("blocked_ip")),
        ("https://[::ffff:10.0.0.1]/", S, Err("blocked_ip")),
        ("https://[::ffff:0:10.0.0.1]/", S, Err("blocked_ip")),
        ("https://[::127.0.0.1]/", S, Err("blocked_ip")),
        ("https://[::7f00:1]/", S, Err("blocked_ip")),
        ("https://[64:ff9b::127.0.0.1]/", S, Err("blocked_ip")),
        ("https://[64:ff9b::a00:1]/", S, Err("blocked_ip")),
        ("https://[64:ff9b:1::1]/", S, Err("blocked_ip")),
        ("https://[2002:7f00:1::]/", S, Err("blocked_ip")),
        ("https://[2002:c0a8:101::1]/", S, Err("blocked_ip")),
        ("https://[2001:db8::1]/", S, Err("blocked_ip")),
        // --- cloud metadata
        ("https://169.254.169.254/latest/meta-data/", S, Err("metadata_host")),
        ("https://2852039166/", S, Err("metadata_host")),
        ("https://0xa9fea9fe/", S, Err("metadata_host")),
        ("https://0251.0376.0251.0376/", S, Err("metadata_host")),
        ("https://169.254.43518/", S, Err("metadata_host")),
        ("https://169.254.169.254./", S, Err("metadata_host")),
        ("https://[::ffff:169.254.169.254]/", S, Err("metadata_host")),
        ("https://[::ffff:a9fe:a9fe]/", S, Err("metadata_host")),
        ("https://[fd00:ec2::254]/", S, Err("metadata_host")),
        ("https://100.100.100.200/", S, Err("metadata_host")),
        ("https://metadata.google.internal/computeMetadata/v1/", S, Err("metadata_host")),
        ("https://METADATA.Google.Internal./", S, Err("metadata_host")),
        ("https://metadata.azure.com/metadata/instance", S, Err("metadata_host")),
        ("https://Metadata.Azure.Com./", S, Err("metadata_host")),
        ("https://metadata/computeMetadata/v1/", S, Err("metadata_host")),
        ("https://instance-data/latest/", S, Err("metadata_host")),
        // --- local host names
        ("https://localhost/", S, Err("local_hostname")),
        ("https://LOCALHOST/", S, Err("local_hostname")),
        ("https://localhost./", S, Err("local_hostname")),
        ("https://LocalHost.:8443/", S, Err("local_hostname")),
        ("https://localhost\u{3002}/", S, Err("local_hostname")),
        ("https://%6c%6f%63%61%6c%68%6f%73%74/", S, Err("local_hostname")),
        ("https://app.localhost/", S, Err("local_hostname")),
        ("https://localhost.localdomain/", S, Err("local_hostname")),
        ("https://printer.local/", S, Err("local_hostname")),
        ("https://Printer.LOCAL./", S, Err("local_hostname")),
        ("https://db.internal/", S, Err("local_hostname")),
        ("https://ip-10-0-0-1.ec2.INTERNAL./", S, Err("local_hostname")),
        ("https://nas.home.arpa/", S, Err("local_hostname")),
        ("https://intranet/hooks", S, Err("local_hostname")),
        // --- AWS credential endpoints
        ("https://sts.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://sts.us-east-1.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://STS.EU-WEST-1.AMAZONAWS.COM./", S, Err("aws_credentials_endpoint")),
        ("https://sts-fips.us-east-2.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://sts.us-gov-west-1.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://sts.cn-north-1.amazonaws.com.cn/", S, Err("aws_credentials_endpoint")),
        ("https://sts.us-east-1.api.aws/", S, Err("aws_credentials_endpoint")),
        ("https://iam.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://iam-fips.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://iam.us-gov.amazonaws.com/", S, Err("aws_credentials_endpoint")),
        ("https://IAM.cn-north-1.amazonaws.com.cn./", S, Err("aws_credentials_endpoint")),
        ("https://eks-auth.us-west-2.api.aws/", S, Err("aws_credentials_endpoint")),
        ("https://169.254.170.23/v1/credentials", S, Err("aws_credentials_endpoint")),
        ("https://[fd00:ec2::23]/v1/credentials", S, Err("aws_credentials_endpoint")),
        ("https://169.254.170.2/v2/credentials", S, Err("aws_credentials_endpoint")),
        // --- local-testing switch: loopback over http or https allowed, nothing else relaxed
        ("http://127.0.0.1:8080/x", L, OK),
        ("https://0x7f000001/x", L, OK),
        ("https://[::1]:8443/", L, OK),
        ("https://localhost:8443/hook", L, OK),
        ("http://localhost:3000/hook", L, OK),
        ("http://LOCALHOST.:3000/hook", L, OK),
        ("http://[::1]:8080/", L, OK),
        ("http://2130706433:8080/", L, OK),
        ("https://127.0.0.1:8443/", L, OK),
        ("http://10.0.0.1/", L, Err("blocked_ip")),
        ("http://192.168.1.1:8080/", L, Err("blocked_ip")),
        ("http://0.0.0.0:8080/", L, Err("blocked_ip")),
        ("http://[fd00::1]:8080/", L, Err("blocked_ip")),
        ("http://169.254.169.254/", L, Err("metadata_host")),
        ("https://metadata.google.internal/", L, Err("metadata_host")),
        ("http://app.localhost:3000/", L, Err("local_hostname")),
        ("http://printer.local/", L, Err("local_hostname")),
        ("http://example.com/", L, Err("https_required")),
        ("ftp://127.0.0.1/", L, Err("https_required")),
        ("http://user:hunter2@127.0.0.1:8080/", L, Err("userinfo")),
    ];

    fn url_of_len(len: usize) -> String {
        let prefix = "https://example.com/";
        format!("{prefix}{}", "a".repeat(len - prefix.len()))
    }

    #[test]
    fn url_rules_table() {
        let rows: Vec<(String, UrlPolicy, Result<(), &str>)> = TABLE
            .iter()
            .map(|&(url, policy, expected)| (url.to_owned(), policy, expected))
            .chain([
                (url_of_len(MAX_URL_LEN), S, OK),
                (url_of_len(MAX_URL_LEN + 1), S, Err("too_long")),
                (url_of_len(10_000), L, Err("too_long")),
                // Input within the limit, normalised form (spaces percent-encoded) over it.
                (format!("https://example.com/a{}a", " ".repeat(700)), S, Err("too_long")),
            ])
            .collect();
        assert!(rows.len() >= 60, "the table must keep at least 60 rows, has {}", rows.len());

        let mut failures = Vec::new();
        for (url, policy, expected) in &rows {
            let actual = validate_webhook_url(url, *policy);
            let actual_rule = actual.as_ref().map(|_| ()).map_err(UrlRejection::rule);
            let shown = if url.len() > 80 {
                format!("{}... ({} chars)", url.chars().take(60).collect::<String>(), url.len())
            } else {
                url.clone()
            };
            if actual_rule != *expected {
                failures.push(format!("{shown:?} with {policy:?}: expected {expected:?}, got {actual:?}"));
                continue;
            }
            if let Err(rejection) = &actual {
                let message = rejection.to_string();
                if !message.starts_with(&format!("{}: ", rejection.rule())) || message.contains(SECRET) {
                    failures.push(format!("{shown:?}: bad message {message:?}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            rows.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn accepted_urls_come_back_normalised() {
        let url = validate_webhook_url("https://Hooks.EXAMPLE.com:443/a?b=c", S).unwrap();
        assert_eq!(url.as_str(), "https://hooks.example.com/a?b=c");
        let url = validate_webhook_url("http://0x7f.1:8080/x", L).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/x");
        let url = validate_webhook_url("https://0x7f000001/x", L).unwrap();
        assert_eq!(url.as_str(), "https://127.0.0.1/x");
        let url = validate_webhook_url("HTTPS://[0:0:0:0:0:0:0:1]:443/a/./b/../c", L).unwrap();
        assert_eq!(url.as_str(), "https://[::1]/a/c");
    }

    #[test]
    fn check_resolved_addr_over_addresses() {
        #[rustfmt::skip]
        let rows: &[(&str, UrlPolicy, Result<(), &str>)] = &[
            ("93.184.216.34", S, OK),
            ("8.8.8.8", S, OK),
            ("172.32.0.1", S, OK),
            ("2606:4700::1111", S, OK),
            ("::ffff:8.8.8.8", S, OK),
            ("64:ff9b::808:808", S, OK),
            ("127.0.0.1", S, Err("blocked_ip")),
            ("127.53.0.1", S, Err("blocked_ip")),
            ("10.20.30.40", S, Err("blocked_ip")),
            ("172.16.5.4", S, Err("blocked_ip")),
            ("192.168.0.10", S, Err("blocked_ip")),
            ("169.254.10.10", S, Err("blocked_ip")),
            ("0.0.0.0", S, Err("blocked_ip")),
            ("100.64.1.1", S, Err("blocked_ip")),
            ("224.0.0.251", S, Err("blocked_ip")),
            ("255.255.255.255", S, Err("blocked_ip")),
            ("::1", S, Err("blocked_ip")),
            ("::", S, Err("blocked_ip")),
            ("fe80::1", S, Err("blocked_ip")),
            ("fd00::1", S, Err("blocked_ip")),
            ("ff02::fb", S, Err("blocked_ip")),
            ("::ffff:127.0.0.1", S, Err("blocked_ip")),
            ("::ffff:192.168.1.1", S, Err("blocked_ip")),
            ("64:ff9b::10.0.0.1", S, Err("blocked_ip")),
            ("2002:a00:1::", S, Err("blocked_ip")),
            ("169.254.169.254", S, Err("metadata_host")),
            ("::ffff:169.254.169.254", S, Err("metadata_host")),
            ("fd00:ec2::254", S, Err("metadata_host")),
            ("169.254.170.23", S, Err("aws_credentials_endpoint")),
            ("fd00:ec2::23", S, Err("aws_credentials_endpoint")),
            ("169.254.170.2", S, Err("aws_credentials_endpoint")),
            // Local testing: loopback passes, nothing else more.
            ("127.0.0.1", L, OK),
            ("::1", L, OK),
            ("::ffff:127.0.0.1", L, OK),
            ("8.8.8.8", L, OK),
            ("0.0.0.0", L, Err("blocked_ip")),
            ("10.0.0.1", L, Err("blocked_ip")),
            ("fd00::1", L, Err("blocked_ip")),
            ("169.254.169.254", L, Err("metadata_host")),
            ("169.254.170.23", L, Err("aws_credentials_endpoint")),
        ];
        let mut failures = Vec::new();
        for &(addr, policy, expected) in rows {
            let ip: IpAddr = addr.parse().unwrap();
            let actual = check_resolved_addr(ip, policy);
            if actual.as_ref().map_err(UrlRejection::rule) != expected.as_ref().map_err(|r| *r) {
                failures.push(format!("{addr} with {policy:?}: expected {expected:?}, got {actual:?}"));
            }
            if policy == S && is_blocked_ip(ip) != expected.is_err() {
                failures.push(format!(
                    "{addr}: is_blocked_ip = {}, expected {}",
                    is_blocked_ip(ip),
                    expected.is_err()
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} rows failed:\n{}",
            failures.len(),
            rows.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn messages_name_the_rule_and_the_embedding() {
        let err = validate_webhook_url("https://[2002:7f00:1::]/", S).unwrap_err();
        assert_eq!(
            err.to_string(),
            "blocked_ip: 2002:7f00:1:: embeds the IPv4 address 127.0.0.1 (6to4 2002::/16), which is in \
             127.0.0.0/8 (loopback); webhooks can only target public addresses"
        );
        let err = validate_webhook_url("https://user:hunter2@example.com/?token=s3cr3t", S).unwrap_err();
        assert!(!err.to_string().contains("hunter2") && !err.to_string().contains("s3cr3t"), "{err}");
        assert_eq!(UrlPolicy::default(), UrlPolicy::STRICT);
    }
}
