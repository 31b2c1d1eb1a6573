//! The Content-Security-Policy of every page, and the headers that go with it.
//!
//! Scripts run only from this server and with the page's nonce (made per request by the
//! server's security middleware, which sends the policy; the hydration script Leptos writes
//! carries it), WebAssembly may compile (`'wasm-unsafe-eval'`), nothing inline runs
//! otherwise (no `onerror=` attribute, no `javascript:` URL), and no other site may frame a
//! page. Even if stored text reached the page as markup, it could not run. Browsers report
//! violations to [`REPORT_PATH`], which logs and counts them (`promgen_csp_violations_total`).

/// Where browsers send violation reports (`report-uri`).
pub const REPORT_PATH: &str = "/csp-report";

/// The policy of an HTML page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'; report-uri {REPORT_PATH}"
    )
}

/// The policy of everything that is not a page (JSON, text, files): nothing may run or load
/// from it, and it may not be framed.
pub const RESOURCE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Headers on every response.
pub const NOSNIFF: (&str, &str) = ("x-content-type-options", "nosniff");
pub const REFERRER_POLICY: (&str, &str) = ("referrer-policy", "same-origin");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_only_nonced_scripts_from_self() {
        let p = page_policy("abc");
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!p.contains("unsafe-inline"));
        for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"] {
            assert!(p.contains(directive), "{directive}");
        }
    }
}
