//! Typed records shared by the browser and the server.

pub mod alerts;
pub mod audit;
pub mod duration;
pub mod ids;
pub mod input;
pub mod inventory;
pub mod roles;
pub mod rules;
pub mod silences;
pub mod user;
pub mod validate;
pub mod when;

pub use alerts::*;
pub use audit::*;
pub use ids::*;
pub use input::*;
pub use inventory::*;
pub use roles::*;
pub use rules::*;
pub use user::*;

/// A message as a sentence: its first letter a capital, the rest as written. The server's
/// messages start in lowercase, as errors do (`wrong username or password`), for APIs and logs;
/// pages show them as sentences. An ASCII letter only: a message that starts with something
/// else (a quoted name, or a name someone typed in another script) is left as written, and
/// Unicode's case tables would cost most pages' first load 4 KB of wasm.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => std::iter::once(first.to_ascii_uppercase()).chain(chars).collect(),
        None => String::new(),
    }
}

/// `text`'s first `max` characters, and `…` when there was more: what a message quotes of
/// what someone sent.
pub fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `n` and an English noun that takes an -s: "1 host", "3 hosts", "0 hosts".
pub fn counted(n: impl Into<i64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Parts as an English sentence lists them: "a", "a and b", "a, b and c"; "" for none.
pub fn listed(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

/// Names as a question shows them: the first `shown`, then how many more ("a, b and 3 more").
pub fn some_names(names: &[String], shown: usize) -> String {
    if names.len() <= shown {
        return listed(names);
    }
    let mut parts = names[..shown].to_vec();
    parts.push(format!("{} more", names.len() - shown));
    listed(&parts)
}

#[cfg(test)]
mod counted_tests {
    #[test]
    fn lists_read_as_sentences() {
        let s = |v: &[&str]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(super::listed(&[]), "");
        assert_eq!(super::listed(&s(&["a"])), "a");
        assert_eq!(super::listed(&s(&["a", "b"])), "a and b");
        assert_eq!(super::listed(&s(&["a", "b", "c"])), "a, b and c");
        assert_eq!(super::some_names(&s(&["a", "b", "c"]), 3), "a, b and c");
        assert_eq!(super::some_names(&s(&["a", "b", "c", "d", "e"]), 3), "a, b, c and 2 more");
    }

    #[test]
    fn one_is_singular_every_other_count_plural() {
        assert_eq!(super::counted(1, "host"), "1 host");
        assert_eq!(super::counted(0, "host"), "0 hosts");
        assert_eq!(super::counted(2, "alert"), "2 alerts");
        assert_eq!(super::counted(-1, "project"), "-1 projects");
    }
}
