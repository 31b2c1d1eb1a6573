//! Who a request comes from, as every per-client limit counts it: the login throttle, the
//! connections a client may hold (`server::web::listen`) and the packs of chunks made for it
//! (`server::web::packs`).

use std::net::IpAddr;

/// The client's address: the last entry of `header` (the one a reverse proxy in front adds,
/// `X-Forwarded-For: <client>, <proxy's view>`; earlier entries are the client's own claims),
/// else the peer's. `header` is `--client-ip-header`; without it the peer is the client.
pub fn address(header: Option<&str>, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let Some(name) = header else { return peer };
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .or(peer)
}

/// A client as limits count it: an IPv4 address, or an IPv6 address's /64 (one host's
/// network; a host takes any address in it at will, so counting addresses would let it
/// start afresh at each). IPv4 mapped into IPv6 is IPv4.
pub fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_an_ipv4_address_or_an_ipv6_64() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn a_proxy_header_names_the_client_by_its_last_entry() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.2".parse().unwrap());
        let peer = Some("127.0.0.1".parse().unwrap());
        assert_eq!(address(Some("x-forwarded-for"), peer, &headers), Some("198.51.100.2".parse().unwrap()));
        assert_eq!(address(None, peer, &headers), peer, "without the flag the header is not read");
        assert_eq!(address(Some("x-real-ip"), peer, &headers), peer, "no header: the peer");
        headers.insert("x-forwarded-for", "nonsense".parse().unwrap());
        assert_eq!(address(Some("x-forwarded-for"), peer, &headers), peer);
    }
}
