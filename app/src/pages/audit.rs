use crate::api::admin::audit_log;
use crate::components::{ChangeDiff, ErrorView, Loading, When};
use leptos::prelude::*;
use leptos_meta::Title;

/// The audit log, newest first; `?type=service&id=3` narrows it to one object and its children.
#[component]
pub fn AuditPage() -> impl IntoView {
    let q = super::query();
    let args = move || {
        let page = q("page").and_then(|p| p.parse().ok()).unwrap_or(1i64);
        (page, q("type"), q("id").and_then(|i| i.parse().ok()))
    };
    let log = Resource::new(args, |(page, kind, id)| audit_log(page, kind, id));
    // Another page of the same log: the filter stays. Plain links: `<A>` marks one to the
    // path it is on as the current page, whatever its query.
    let page_href = move |page: i64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("page", &page.to_string());
        for key in ["type", "id"] {
            if let Some(value) = q(key) {
                query.append_pair(key, &value);
            }
        }
        format!("/audit?{}", query.finish())
    };
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match log.await.and_then(|raw| raw.read()) {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(page) if page.entries.is_empty() && page.page <= 1 => view! {
                        <p class="muted">"No changes that you can see yet: what you and others change shows here."</p>
                    }.into_any(),
                    Ok(page) => view! {
                        {page.subject.map(|name| {
                            let kind = q("type").unwrap_or_default();
                            let href = format!("/{kind}/{}", q("id").unwrap_or_default());
                            view! {
                                <p data-testid="subject">
                                    {format!("The history of {kind} ")} <a href=href>{name}</a>
                                    ", with what belongs to it."
                                </p>
                            }
                        })}
                        <table class="list audit">
                            <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Change"</th></tr></thead>
                            <tbody>
                                {page.entries.into_iter().map(|e| view! {
                                    <tr>
                                        <td data-label="When"><When at=e.created /></td>
                                        <td>{e.user.unwrap_or_else(|| "system".into())}</td>
                                        <td>{e.body}</td>
                                        <td><ChangeDiff old=e.old new=e.data /></td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <p class="pager">
                            {(page.page > 1).then(|| view! { <a href=page_href(page.page - 1)>"Newer"</a> })}
                            " "
                            {page.has_more.then(|| view! { <a href=page_href(page.page.saturating_add(1))>"Older"</a> })}
                        </p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
