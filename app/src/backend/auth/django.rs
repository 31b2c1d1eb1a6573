//! Promgen's passwords: the hash formats of Django (`django/contrib/auth/hashers.py`) that a
//! Promgen export carries in `auth.user.password`. Users imported from Promgen log in with
//! their old password; the first login that matches replaces the hash with Argon2id.
//!
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64 of 32 bytes>` (Django's default),
//!   `pbkdf2_sha1$…` (20 bytes): PBKDF2-HMAC with the salt as text.
//! - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: Argon2's PHC string behind
//!   Django's `argon2` prefix.
//!
//! Anything else (an unusable `!…`, bcrypt, a plain text as in Promgen's test fixtures) is
//! not a password here: the user gets one with `promgen set-password` or signs in by OIDC.

use base64::Engine;
use subtle::ConstantTimeEq;

/// The most PBKDF2 iterations checked: Django 5.1 uses 1,000,000; an export with more is
/// refused rather than let one login cost seconds of CPU.
pub const MAX_ITERATIONS: u32 = 10_000_000;

/// A Django password hash this server can check.
#[derive(Debug, PartialEq, Eq)]
pub enum DjangoHash {
    Pbkdf2 {
        sha1: bool,
        iterations: u32,
        salt: String,
        hash: Vec<u8>,
    },
    /// The Argon2 PHC string (`$argon2id$v=19$…`).
    Argon2(String),
}

impl DjangoHash {
    /// Reads a Django hash; `None` for anything this server cannot check (see the module).
    pub fn parse(text: &str) -> Option<DjangoHash> {
        if let Some(phc) = text.strip_prefix("argon2$") {
            return Some(DjangoHash::Argon2(format!("${phc}")));
        }
        let mut parts = text.splitn(4, '$');
        let sha1 = match parts.next()? {
            "pbkdf2_sha256" => false,
            "pbkdf2_sha1" => true,
            _ => return None,
        };
        let iterations: u32 = parts.next()?.parse().ok().filter(|n| (1..=MAX_ITERATIONS).contains(n))?;
        let salt = parts.next()?.to_string();
        let hash = base64::engine::general_purpose::STANDARD.decode(parts.next()?).ok()?;
        let len = if sha1 { 20 } else { 32 };
        (hash.len() == len).then_some(DjangoHash::Pbkdf2 { sha1, iterations, salt, hash })
    }

    /// Whether `password` matches a PBKDF2 hash, compared in constant time. CPU-bound
    /// (iterations × 2 HMACs): callers run it off the async workers. Argon2 hashes are
    /// checked by [`super::password::Hasher`]; here they answer false.
    pub fn verify_pbkdf2(&self, password: &str) -> bool {
        let DjangoHash::Pbkdf2 { sha1, iterations, salt, hash } = self else { return false };
        let mut out = vec![0u8; hash.len()];
        if *sha1 {
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt.as_bytes(), *iterations, &mut out);
        } else {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), *iterations, &mut out);
        }
        out.ct_eq(hash).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with Python's hashlib.pbkdf2_hmac, as Django's PBKDF2PasswordHasher does.
    const SHA256: &str = "pbkdf2_sha256$10000$Qx2hPAbYE9aF$bh92Pr7ouyds4KOcUewtSN4zbFUR2ysBc1F6OiDilUU=";
    const SHA1: &str = "pbkdf2_sha1$10000$Qx2hPAbYE9aF$ytHUbEbgr/VGu+vXHrYqrrjFPNk=";

    #[test]
    fn checks_djangos_pbkdf2() {
        for text in [SHA256, SHA1] {
            let h = DjangoHash::parse(text).unwrap();
            assert!(h.verify_pbkdf2("promgen-old-password"), "{text}");
            assert!(!h.verify_pbkdf2("promgen-old-passwore"), "{text}");
            assert!(!h.verify_pbkdf2(""), "{text}");
        }
    }

    #[test]
    fn reads_only_what_it_can_check() {
        assert!(
            matches!(DjangoHash::parse("argon2$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"), Some(DjangoHash::Argon2(p)) if p.starts_with("$argon2id$"))
        );
        for text in [
            "admin",
            "!unusable",
            "",
            "bcrypt_sha256$$2b$12$abc",
            "pbkdf2_sha256$0$salt$bh92Pr7ouyds4KOcUewtSN4zbFUR2ysBc1F6OiDilUU=",
            "pbkdf2_sha256$4000000000$salt$bh92Pr7ouyds4KOcUewtSN4zbFUR2ysBc1F6OiDilUU=",
            "pbkdf2_sha256$10000$salt$not base64",
            "pbkdf2_sha256$10000$salt$ytHUbEbgr/VGu+vXHrYqrrjFPNk=",
            "pbkdf2_sha256$10000$salt",
        ] {
            assert_eq!(DjangoHash::parse(text), None, "{text}");
        }
    }
}
