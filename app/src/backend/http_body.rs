//! Reading answers of servers we call (identity providers, notifier targets, shards'
//! Prometheus): never more than a limit, checked as the body arrives, so a server (or anyone
//! between) cannot make this one hold gigabytes.

/// An answer's body, refused past `limit` bytes (by its `Content-Length`, or as it arrives).
pub async fn read_capped(mut res: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let too_large = || format!("an answer over {} KiB", limit / 1024);
    if res.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
