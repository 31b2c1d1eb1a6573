//! Notifier URLs are typed by users; they must not make this server reach what only it can
//! reach (loopback, private networks, link-local cloud metadata) unless the operator allows
//! it. The check runs when a notifier is saved and again at every connection: the HTTP client
//! resolves names through [`GuardedResolver`], so a name that changes its address later (DNS
//! rebinding) is caught too, and redirects are not followed.
//!
//! IPv6 addresses that carry an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4, Teredo)
//! are judged by the IPv4 address they lead to. Proxies from the environment (`HTTP_PROXY`…)
//! are ignored; a proxy is an explicit setting (`--notifier-proxy`), and with one the guard
//! resolves each target itself before sending, since the proxy, not this server, connects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Embedded::One(v4) => is_public_v4(v4),
            Embedded::Two(a, b) => is_public_v4(a) && is_public_v4(b),
            Embedded::None => is_public_v6(v6),
        },
    }
}

/// Whether an address is link-local (169.254.0.0/16, fe80::/10, or an IPv6 address leading to
/// one), where clouds answer with instance metadata and credentials; also AWS' fd00:ec2::254.
pub fn is_link_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Embedded::One(v4) => v4.is_link_local(),
            Embedded::Two(a, b) => a.is_link_local() || b.is_link_local(),
            Embedded::None => {
                (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
            }
        },
    }
}

/// Resolves names keeping no link-local address (see [`is_link_local`]): for connections to
/// hosts users register, which may be private but never the cloud's metadata service.
pub struct NoLinkLocal;

impl reqwest::dns::Resolve for NoLinkLocal {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.iter().copied().filter(|a| !is_link_local(a.ip())).collect();
            if kept.is_empty() && !found.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} resolves only to link-local addresses (cloud metadata); they are not reached")
                        .into();
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The IPv4 addresses an IPv6 address leads to.
enum Embedded {
    None,
    One(Ipv4Addr),
    /// Teredo: the server's and the client's.
    Two(Ipv4Addr, Ipv4Addr),
}

fn embedded_v4(ip: Ipv6Addr) -> Embedded {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (SIIT, RFC 6145).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => Embedded::One(v4(hi, lo)),
        // ::a.b.c.d (IPv4-compatible, deprecated); :: and ::1 are themselves.
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Embedded::One(v4(hi, lo)),
        // NAT64, well-known prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Embedded::One(v4(hi, lo)),
        // 6to4 (RFC 3056): 2002:AABB:CCDD::.
        [0x2002, hi, lo, ..] => Embedded::One(v4(hi, lo)),
        // Teredo (RFC 4380): 2001:0:server:…:client, the client's address inverted.
        [0x2001, 0, shi, slo, _, _, chi, clo] => Embedded::Two(v4(shi, slo), v4(!chi, !clo)),
        _ => Embedded::None,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), IETF protocol assignments, the 6to4
        // relay anycast, benchmarking, reserved.
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 192 && b == 88 && ip.octets()[2] == 99)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Site-local (deprecated, still routed inside some networks).
        || (s[0] & 0xffc0) == 0xfec0
        // NAT64 local-use prefix (RFC 8215), discard-only (RFC 6666).
        || (s[0] == 0x64 && s[1] == 0xff9b)
        || (s[0] == 0x100 && s[1..4] == [0, 0, 0])
        // IETF protocol assignments (ORCHID, benchmarking, …), 2001::/23.
        || (s[0] == 0x2001 && s[1] < 0x200)
        // Documentation (RFC 3849, RFC 9637) and SRv6 SIDs (RFC 9602).
        || (s[0] == 0x2001 && s[1] == 0xdb8)
        || (s[0] & 0xfff0) == 0x3ff0
        || s[0] == 0x5f00)
}

/// Checks a notifier URL's form, and its host when it is an address. Returns the URL.
pub fn check_url(value: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(value.trim()).map_err(|e| match e {
        // The parser's words ("relative URL without a base") for what a user leaves out.
        url::ParseError::RelativeUrlWithoutBase => format!("{value:?} is not a URL: it must start with https://"),
        e => format!("{value:?} is not a URL: {e}"),
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("{value:?} must be an http:// or https:// URL"));
    }
    // Not starting with the address: a page capitalises a message's first letter ("Fe80::1").
    let refused =
        |ip: IpAddr| format!("the address {ip} is a loopback, private or reserved address; notifiers may not reach it");
    match url.host() {
        None => return Err(format!("{value:?} names no host")),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(ip.into()) => return Err(refused(ip.into())),
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(ip.into()) => return Err(refused(ip.into())),
        Some(url::Host::Domain(d)) if !allow_private && (d == "localhost" || d.ends_with(".localhost")) => {
            return Err(format!("the host {d} is this machine; notifiers may not reach it"));
        }
        _ => {}
    }
    Ok(url)
}

/// Resolves a URL's host now and refuses it unless every address is public (used when a proxy
/// connects in this server's place).
pub async fn check_resolved(url: &reqwest::Url) -> Result<(), String> {
    let Some(host) = url.host_str() else { return Err("the URL names no host".into()) };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let found: Vec<SocketAddr> =
        tokio::net::lookup_host((host, 0)).await.map_err(|e| format!("{host} does not resolve: {e}"))?.collect();
    match found.iter().find(|a| !is_public(a.ip())) {
        Some(a) => Err(format!("{host} resolves to {}, a loopback, private or reserved address", a.ip())),
        None => Ok(()),
    }
}

/// Resolves names for the notifiers' HTTP client and keeps only public addresses.
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.iter().copied().filter(|a| allow || is_public(a.ip())).collect();
            if kept.is_empty() && !found.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = format!(
                    "{host} resolves only to loopback, private or reserved addresses; notifiers may not reach them"
                )
                .into();
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL without its scheme says what to add, not the parser's words.
    #[test]
    fn a_url_without_a_scheme_says_what_is_missing() {
        let e = check_url("hooks.slack.com/services/T0/B0/x", false).unwrap_err();
        assert_eq!(e, "\"hooks.slack.com/services/T0/B0/x\" is not a URL: it must start with https://");
        assert!(check_url("https://hooks.slack.com/services/T0/B0/x", false).is_ok());
        assert!(check_url("ftp://example.com/", false).unwrap_err().contains("http:// or https://"));
    }

    #[test]
    fn link_local_addresses_are_known_in_every_form() {
        for ip in ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "fd00:ec2::254"] {
            assert!(is_link_local(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["10.0.0.1", "127.0.0.1", "::1", "2001:db8::1", "192.168.0.1"] {
            assert!(!is_link_local(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn private_and_reserved_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            // IPv6 forms that lead to private IPv4 addresses.
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:0:192.168.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::8.8.8.8",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            "2001:0:7f00:1:0:0:f7f7:f7f7",
            "fec0::1",
            "100::1",
            "2001:10::1",
            "2001:db8::1",
            "3fff::1",
            "192.0.0.8",
            "192.88.99.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
            "2001:0:808:808:0:0:f7f7:f7f7",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_by_form_and_literal_address() {
        assert!(check_url("https://hooks.slack.com/services/x", false).is_ok());
        assert!(check_url("http://169.254.169.254/latest/meta-data", false).unwrap_err().contains("169.254.169.254"));
        assert!(check_url("http://[::1]:8080/", false).is_err());
        assert!(check_url("http://[::127.0.0.1]/", false).is_err());
        assert!(check_url("http://[64:ff9b::7f00:1]/", false).is_err());
        assert!(check_url("http://localhost:9093/api/v2/alerts", false).is_err());
        assert!(check_url("http://127.0.0.1:9093/api/v2/alerts", true).is_ok(), "the operator may allow it");
        assert!(check_url("ftp://example.com", false).is_err());
        assert!(check_url("not a url", false).is_err());
    }
}
