//! Password hashing (Argon2id, PHC strings) a few at a time, in memory kept for it.
//!
//! One Argon2 check with the default parameters fills 19 MiB. Hashed with fresh memory on
//! whichever blocking thread runs it, a flood of logins left each thread's allocator arena
//! holding its own 19 MiB (3.4 GB grew to 10.2 GB and was never given back). Here at most
//! one hash per core runs at a time, each in one of as many blocks of memory allocated once
//! and reused, so the memory hashing needs stays flat whatever arrives.

use crate::error::AppError;
use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a login waits for its turn to hash before it is refused as too busy.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Memory larger than this is not kept for reuse (a stored hash with unusual parameters).
const KEPT_BLOCKS: usize = Params::DEFAULT_M_COST as usize;

pub struct Hasher {
    turns: Arc<Semaphore>,
    /// Memory for the hashes that run, one block each, reused.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Hasher {
    /// At most `concurrent` hashes at once (0: one per core).
    pub fn new(concurrent: usize) -> Hasher {
        let n = if concurrent == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { concurrent };
        Hasher { turns: Arc::new(Semaphore::new(n)), memory: Default::default() }
    }

    /// Runs `work` with memory of `blocks` blocks on a blocking thread, in its turn.
    async fn run<T: Send + 'static>(
        &self,
        blocks: usize,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let turn = match tokio::time::timeout(QUEUE_WAIT, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            _ => return Err(AppError::Unavailable("too many logins at once; try again in a few seconds".into())),
        };
        let memory = self.memory.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let mut mine = memory.lock().ok().and_then(|mut m| m.pop()).unwrap_or_default();
            if mine.len() < blocks {
                mine.resize(blocks, Block::default());
            }
            let out = work(&mut mine[..blocks]);
            if mine.len() <= KEPT_BLOCKS
                && let Ok(mut m) = memory.lock()
            {
                m.push(mine);
            }
            out
        })
        .await
        .map_err(|e| AppError::fault("hashing the password", e))
    }

    /// A PHC string of `password` with a fresh salt and Argon2id's default parameters.
    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let params = Params::default();
        let blocks = params.block_count();
        self.run(blocks, move |memory| {
            let salt = SaltString::generate(&mut OsRng);
            phc(params, password.as_bytes(), &salt, memory).map(|h| h.to_string())
        })
        .await?
        .map_err(|e| AppError::fault("hashing the password", e))
    }

    /// Runs a check that needs no Argon2 memory (Django's PBKDF2) in a hashing turn, off the
    /// async workers.
    pub async fn verify_with(&self, check: impl FnOnce() -> bool + Send + 'static) -> Result<bool, AppError> {
        self.run(0, move |_| check()).await
    }

    /// Whether `password` is the one `phc` (an Argon2 PHC string) was made from; false for a
    /// string that does not parse.
    pub async fn verify(&self, password: String, phc_text: String) -> Result<bool, AppError> {
        let blocks =
            PasswordHash::new(&phc_text).ok().and_then(|h| Params::try_from(&h).ok()).map_or(0, |p| p.block_count());
        self.run(blocks, move |memory| {
            let Ok(expected) = PasswordHash::new(&phc_text) else { return false };
            let (Ok(algorithm), Ok(params), Some(salt), Some(want)) =
                (Algorithm::try_from(expected.algorithm), Params::try_from(&expected), expected.salt, expected.hash)
            else {
                return false;
            };
            let version = expected.version.map_or(Ok(Version::default()), Version::try_from).unwrap_or_default();
            let argon = Argon2::new(algorithm, version, params);
            let mut salt_bytes = [0u8; 64];
            let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else { return false };
            let mut out = vec![0u8; want.len()];
            if argon.hash_password_into_with_memory(password.as_bytes(), salt_raw, &mut out, memory).is_err() {
                return false;
            }
            // `Output`'s equality is constant-time.
            argon2::password_hash::Output::new(&out).is_ok_and(|got| got == want)
        })
        .await
    }
}

/// The Argon2id PHC string of `password` with `params` and `salt`, computed in `memory`.
fn phc<'a>(
    params: Params,
    password: &[u8],
    salt: &'a SaltString,
    memory: &mut [Block],
) -> Result<PasswordHash<'a>, argon2::password_hash::Error> {
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let argon = Argon2::new(algorithm, version, params);
    let salt = salt.as_salt();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.decode_b64(&mut salt_bytes)?;
    let len = argon.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = argon2::password_hash::Output::init_with(len, |out| {
        argon.hash_password_into_with_memory(password, salt_raw, out, &mut *memory).map_err(Into::into)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: argon.params().try_into()?,
        salt: Some(salt),
        hash: Some(output),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn hashes_as_argon2_does_and_reuses_its_memory() {
        let h = Hasher::new(1);
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // The argon2 crate's own verifier agrees, both ways.
        assert!(Argon2::default().verify_password(b"correct horse", &PasswordHash::new(&phc).unwrap()).is_ok());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"battery staple", &salt).unwrap().to_string();
        assert!(h.verify("battery staple".into(), theirs.clone()).await.unwrap());
        assert!(!h.verify("battery".into(), theirs).await.unwrap());
        assert!(!h.verify("x".into(), "not a hash".into()).await.unwrap());
        assert_eq!(h.memory.lock().unwrap().len(), 1, "one block of memory, reused");
    }
}
