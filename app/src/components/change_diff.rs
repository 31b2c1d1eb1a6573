//! A change from the audit log as the fields it touched, before and after, instead of two JSON
//! blobs.

use crate::model::audit::diff;
use leptos::prelude::*;

/// `old` and `new`: the object's states as the audit log keeps them (JSON), `None` when it did
/// not exist before (created) or after (deleted).
#[component]
pub fn ChangeDiff(old: Option<String>, new: Option<String>) -> impl IntoView {
    let changes = diff(old.as_deref(), new.as_deref());
    if changes.is_empty() {
        return view! { <span class="muted">"no field changed"</span> }.into_any();
    }
    view! {
        <dl class="diff">
            {changes.into_iter().map(|c| view! {
                <dt>{c.field}</dt>
                <dd>
                    {c.before.map(|b| view! { <del><span class="sr-only">"before: "</span>{b}</del> })}
                    {c.after.map(|a| view! { <ins><span class="sr-only">"after: "</span>{a}</ins> })}
                </dd>
            }).collect_view()}
        </dl>
    }
    .into_any()
}
