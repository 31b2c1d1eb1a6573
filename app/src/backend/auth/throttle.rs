//! Login attempts are limited per account and per client address (GCRA, the `governor`
//! crate), before any password is checked: each Argon2 check costs 19 MiB and tens of
//! milliseconds of a core (`password` runs them a few at a time). A refused attempt says when
//! to try again (`Retry-After`).

use crate::error::AppError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// The longest username a login is checked for (names are at most 128 characters).
pub const MAX_USERNAME: usize = 150;

/// How many login attempts are taken, and how many passwords are hashed at once.
#[derive(Clone, Debug)]
pub struct LoginSettings {
    /// Attempts per account per minute (a burst of as many, then one every 60/N s).
    pub per_account: u32,
    /// Attempts per client address per minute.
    pub per_address: u32,
    /// Password hashes computed at once (0: one per core); more logins wait their turn.
    pub concurrent_hashes: usize,
    /// The header a reverse proxy puts the client's address in (`X-Forwarded-For`: its last
    /// entry); without it, the peer's address is the client's.
    pub client_ip_header: Option<String>,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings { per_account: 5, per_address: 30, concurrent_hashes: 0, client_ip_header: None }
    }
}

pub struct Throttle {
    client_ip_header: Option<String>,
    accounts: DefaultKeyedRateLimiter<String>,
    addresses: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

impl Throttle {
    pub fn new(s: &LoginSettings) -> Throttle {
        Throttle {
            client_ip_header: s.client_ip_header.clone(),
            accounts: RateLimiter::keyed(quota(s.per_account)),
            addresses: RateLimiter::keyed(quota(s.per_address)),
        }
    }

    /// The client's address ([`crate::backend::client::address`]).
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> Option<IpAddr> {
        crate::backend::client::address(self.client_ip_header.as_deref(), peer, headers)
    }

    /// Takes one attempt for `username` from `address`, or says how long to wait. The
    /// address is checked first, so one client cannot lock many accounts out at no cost.
    pub fn attempt(&self, username: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let now = DefaultClock::default().now();
        // An IPv6 client counts by its /64: it may take any address in it.
        if let Some(ip) = address.map(crate::backend::client::key)
            && let Err(wait) = self.addresses.check_key(&ip)
        {
            return Err(too_many("from this address", wait.wait_time_from(now)));
        }
        // The key is bounded: a flood of long names must not become a table of them.
        let account: String = username.trim().chars().take(MAX_USERNAME).collect::<String>().to_lowercase();
        if let Err(wait) = self.accounts.check_key(&account) {
            return Err(too_many("for this account", wait.wait_time_from(now)));
        }
        Ok(())
    }

    /// Forgets accounts and addresses whose limits have filled up again, so the tables only
    /// hold those that tried recently.
    pub fn forget_idle(&self) {
        self.accounts.retain_recent();
        self.addresses.retain_recent();
        self.accounts.shrink_to_fit();
        self.addresses.shrink_to_fit();
    }
}

fn too_many(whom: &str, wait: Duration) -> AppError {
    let retry_after = wait.as_secs() + 1;
    AppError::TooManyRequests {
        message: format!("too many login attempts {whom}; try again in {retry_after} s"),
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_accounts_and_addresses_separately() {
        let t = Throttle::new(&LoginSettings {
            per_account: 2,
            per_address: 3,
            concurrent_hashes: 1,
            client_ip_header: None,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(t.attempt("admin", Some(a)).is_ok());
        assert!(t.attempt("Admin ", Some(b)).is_ok(), "one account whatever the case");
        let e = t.attempt("admin", Some(a)).unwrap_err();
        assert_eq!(e.status(), 429);
        assert!(e.to_string().starts_with("too many login attempts for this account; try again in"), "{e}");
        assert!(matches!(e, AppError::TooManyRequests { retry_after, .. } if (1..=31).contains(&retry_after)));
        assert!(t.attempt("other", Some(a)).is_ok());
        let e = t.attempt("third", Some(a)).unwrap_err();
        assert!(e.to_string().contains("from this address"), "{e}");
        assert!(t.attempt("third", Some(b)).is_ok(), "another address is not limited");
        // An IPv6 host's /64 is one client, however many of its addresses it uses.
        for n in 1..=3 {
            assert!(t.attempt(&format!("v6-{n}"), Some(format!("2001:db8::{n}").parse().unwrap())).is_ok());
        }
        let e = t.attempt("v6-4", Some("2001:db8::4".parse().unwrap())).unwrap_err();
        assert!(e.to_string().contains("from this address"), "{e}");
        assert!(t.attempt("v6-5", Some("2001:db8:0:1::5".parse().unwrap())).is_ok(), "the next /64 is another");
        t.forget_idle();
    }
}
