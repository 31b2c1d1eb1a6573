//! Notifier URLs are typed by users; they must not make this server reach what only it can
//! reach (loopback, private networks, link-local cloud metadata) unless the operator allows
//! it. The check runs when a notifier is saved and again at every connection: the HTTP client
//! resolves names through [`GuardedResolver`], so a name that changes its address later (DNS
//! rebinding) is caught too, and redirects are not followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
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
        // Shared address space (carrier-grade NAT), benchmarking, reserved.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Documentation.
        || (ip.segments()[0] == 0x2001 && ip.segments()[1] == 0xdb8))
}

/// Checks a notifier URL's form, and its host when it is an address. Returns the URL.
pub fn check_url(value: &str, allow_private: bool) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(value.trim()).map_err(|e| format!("{value:?} is not a URL: {e}"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("{value:?} must be an http:// or https:// URL"));
    }
    let refused = |ip: IpAddr| format!("{ip} is a loopback, private or reserved address; notifiers may not reach it");
    match url.host() {
        None => return Err(format!("{value:?} names no host")),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(ip.into()) => return Err(refused(ip.into())),
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(ip.into()) => return Err(refused(ip.into())),
        Some(url::Host::Domain(d)) if !allow_private && (d == "localhost" || d.ends_with(".localhost")) => {
            return Err(format!("{d} is this machine; notifiers may not reach it"));
        }
        _ => {}
    }
    Ok(url)
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
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_by_form_and_literal_address() {
        assert!(check_url("https://hooks.slack.com/services/x", false).is_ok());
        assert!(check_url("http://169.254.169.254/latest/meta-data", false).unwrap_err().contains("169.254.169.254"));
        assert!(check_url("http://[::1]:8080/", false).is_err());
        assert!(check_url("http://localhost:9093/api/v2/alerts", false).is_err());
        assert!(check_url("http://127.0.0.1:9093/api/v2/alerts", true).is_ok(), "the operator may allow it");
        assert!(check_url("ftp://example.com", false).is_err());
        assert!(check_url("not a url", false).is_err());
    }
}
