//! The alerts page (live: groups by alert name and service, updated as alerts fire and
//! resolve), the history searchable by label, and one alert with its routing and deliveries.

use super::{HeldAlertsPanel, SilenceButton};
use crate::api::alerts::{alert_history, current_alerts, get_alert};
use crate::components::{ErrorView, LabelChips, Loading, PageError, When, get_within_page, live_feed};
use crate::error::AppError;
use crate::model::silences::owner_matchers;
use crate::model::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

fn labels_query() -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let q = super::query();
    move || q("labels").unwrap_or_default()
}

/// The label filter's form; `value` is read where the field renders, so it follows the URL
/// (and is not read outside a reactive context): the attribute for the server's page, the
/// property once in the browser (an attribute no longer shows once the box was typed in).
#[component]
fn LabelFilter(action: &'static str, value: impl Fn() -> String + Clone + Send + Sync + 'static) -> impl IntoView {
    view! {
        <form method="GET" action=action class="label-filter" on:submit=get_within_page(action)>
            <input type="search" name="labels" value=value.clone() prop:value=value placeholder="service=web severity=critical" aria-label="Label filter" />
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let labels = labels_query();
    let reload = RwSignal::new(0u32);
    let page = Resource::new(
        {
            let labels = labels.clone();
            move || (labels(), reload.get())
        },
        |(labels, _)| current_alerts(labels),
    );
    let history = {
        let labels = labels.clone();
        move || format!("/alert/history?labels={}", crate::components::query_value(&labels()))
    };
    view! {
        <Title text="Alerts" />
        <h1>"Alerts"</h1>
        <LabelFilter action="/alert" value=labels.clone() />
        <p class="links"><a href=history>"Every delivery (history)"</a></p>
        <Transition fallback=Loading>
            {move || {
                let filter = labels();
                Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <LiveAlerts page=p filter reload /> }.into_any(),
                        Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    }
                })
            }}
        </Transition>
        <HeldAlertsPanel />
    }
}

/// One line of the page: an alert name on a service, across its groups.
#[derive(Clone, Default, PartialEq)]
struct Line {
    alertname: String,
    service: String,
    /// Sorted, each once.
    projects: Vec<String>,
    firing_groups: usize,
    firing_alerts: i64,
    latest: Option<AlertSummary>,
    sent: i64,
    errors: i64,
    /// Notifications still being delivered or retried.
    pending: i64,
}

/// The mark of a delivery that reached no notifier.
#[component]
fn NobodyTold() -> impl IntoView {
    view! { <span class="chip unrouted" title="No notifier was told: its page says why">"nobody told"</span> }
}

/// Notifications of an alert not sent yet: " 2 pending", what the alert's page says of each.
#[component]
fn Pending(count: i64) -> impl IntoView {
    view! { <span class="muted" title="Being delivered, or waiting for another attempt: the alert's page says when">{format!(" {count} pending")}</span> }
}

/// The page's lines, firing first, then the most recent. Sorted vectors rather than maps: this
/// page is one of the smallest first loads, and a map of its own types cost it 2 KB of wasm.
fn lines(groups: &[AlertSummary]) -> Vec<Line> {
    let mut sorted: Vec<&AlertSummary> = groups.iter().collect();
    sorted.sort_by(|a, b| (&a.alertname, &a.service).cmp(&(&b.alertname, &b.service)));
    let mut out: Vec<Line> = Vec::new();
    for g in sorted {
        if out.last().is_none_or(|l| (&l.alertname, &l.service) != (&g.alertname, &g.service)) {
            out.push(Line { alertname: g.alertname.clone(), service: g.service.clone(), ..Default::default() });
        }
        let line = out.last_mut().expect("pushed above");
        if !g.project.is_empty() && !line.projects.contains(&g.project) {
            line.projects.push(g.project.clone());
        }
        if g.status == "firing" {
            line.firing_groups += 1;
            line.firing_alerts += g.alerts;
        }
        line.sent += g.sent_count;
        line.errors += g.error_count;
        line.pending += g.pending();
        if line.latest.as_ref().is_none_or(|l| l.id < g.id) {
            line.latest = Some(g.clone());
        }
    }
    for line in &mut out {
        line.projects.sort();
    }
    out.sort_by_key(|l| (l.firing_groups == 0, std::cmp::Reverse(l.latest.as_ref().map_or(0, |a| a.id.0))));
    out
}

#[component]
fn LiveAlerts(page: AlertPage, filter: String, reload: RwSignal<u32>) -> impl IntoView {
    let may_silence = page.may_silence;
    let groups = RwSignal::new(page.alerts);
    let filtered = !filter.trim().is_empty();
    let filter = parse_label_filter(&filter).unwrap_or_default();
    let status = live_feed(page.last_event, move |m| match m {
        FeedMessage::Event { alert, .. } => {
            if matches_filter(&filter, &alert.labels) {
                let _ = groups.try_update(|gs| match gs.iter_mut().find(|g| g.group_key == alert.group_key) {
                    Some(g) if g.id <= alert.id => *g = *alert,
                    Some(_) => {}
                    None => gs.insert(0, *alert),
                });
            }
        }
        FeedMessage::Reload => {
            let _ = reload.try_update(|r| *r += 1);
        }
    });
    view! {
        <p class="feed-status" data-testid="feed-status">"Live feed: " {move || status.get()}</p>
        {move || {
            let lines = groups.with(|g| lines(g));
            if lines.is_empty() {
                // What Alertmanager sent Promgen (its webhook), not what it holds now (listed below).
                let empty = if filtered { "No alerts with these labels." } else { "No alert has reached Promgen's webhook yet." };
                return view! { <p class="muted">{empty}</p> }.into_any();
            }
            view! {
                <table class="list alerts">
                    <thead><tr><th>"Alert"</th><th>"Service"</th><th>"Projects"</th><th>"State"</th><th>"Last change"</th><th>"Sent / errors"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>
                        {lines.into_iter().map(|l| {
                            let latest = l.latest.clone();
                            let firing = l.firing_groups > 0;
                            let name = l.alertname.clone();
                            view! {
                                <tr class:firing=firing data-alert=l.alertname.clone()>
                                    <td>
                                        {latest.as_ref().map(|a| view! { <A href=format!("/alert/{}", a.id)>{name}</A> })}
                                        {latest.as_ref().filter(|a| a.notified == 0).map(|_| view! { " " <NobodyTold /> })}
                                    </td>
                                    <td>{l.service.clone()}</td>
                                    <td>{l.projects.join(", ")}</td>
                                    <td class="state">
                                        {if firing { format!("firing ({})", crate::model::counted(l.firing_alerts, "alert")) } else { "resolved".to_string() }}
                                    </td>
                                    <td data-label="Last change">{latest.as_ref().map(|a| view! { <When at=a.received.clone() /> })}</td>
                                    <td data-label="Sent / errors" class:error=l.errors != 0>
                                        {format!("{} / {}", l.sent, l.errors)}
                                        {(l.pending > 0).then(|| view! { <Pending count=l.pending /> })}
                                    </td>
                                    <td>{(firing && may_silence && !l.service.is_empty()).then(|| view! { <SilenceButton matchers=owner_matchers(&l.alertname, &l.service, "") /> })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

#[component]
pub fn AlertHistoryPage() -> impl IntoView {
    let labels = labels_query();
    let q = super::query();
    let page_no = move || q("page").and_then(|p| p.parse().ok()).unwrap_or(1i64);
    let list = Resource::new(
        {
            let labels = labels.clone();
            move || (labels(), page_no())
        },
        |(labels, page)| alert_history(labels, page),
    );
    view! {
        <Title text="Alert history" />
        <h1>"Alert history"</h1>
        <LabelFilter action="/alert/history" value=labels.clone() />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorView error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No deliveries with these labels."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list alerts">
                            <thead><tr><th>"Received"</th><th>"Status"</th><th>"Alert"</th><th>"Labels"</th><th>"Sent / errors"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| view! {
                                    <tr>
                                        <td data-label="Received"><A href=format!("/alert/{}", a.id)><When at=a.received.clone() /></A></td>
                                        <td>{a.status.clone()}</td>
                                        <td>{a.alertname.clone()}</td>
                                        <td><LabelChips labels=a.labels.clone() /></td>
                                        <td data-label="Sent / errors">
                                            {format!("{} / {}", a.sent_count, a.error_count)}
                                            {(a.notified == 0).then(|| view! { " " <NobodyTold /> })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn AlertPage() -> impl IntoView {
    let id = super::id_param::<AlertId>("id");
    let detail = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_alert(id).await,
            None => Err(AppError::NotFound("alert".into())),
        }
    });
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let a = d.alert.clone();
                view! {
                    <Title text={format!("{} ({})", a.alertname, a.status)} />
                    <h1>{a.alertname.clone()} " " <span class=format!("chip {}", a.status)>{a.status.clone()}</span></h1>
                    <p class="muted">
                        "Received " <When at=a.received.clone() />
                        {format!(" · {} · sent {} · errors {}", crate::model::counted(a.alerts, "alert"), a.sent_count, a.error_count)}
                        {(a.pending() > 0).then(|| view! { " ·" <Pending count=a.pending() /> })}
                    </p>
                    <p class="links" data-testid="alert-links">
                        {d.links.iter().cloned().map(|(text, href)| {
                            if href.starts_with('/') {
                                view! { <A href=href>{text}</A> }.into_any()
                            } else {
                                view! { <a href=href rel="external noopener noreferrer" target="_blank">{text}</a> }.into_any()
                            }
                        }).collect_view()}
                    </p>
                    {[("earlier", "Alertmanager sent this group before: ", d.earlier.clone()),
                      ("later", "Alertmanager sent this group again: ", d.later.clone())]
                        .into_iter()
                        .filter_map(|(id_, text, m)| m.map(|(id, status, at)| view! {
                            <p data-testid=id_>
                                {text}
                                <A href=format!("/alert/{id}")><span class=format!("chip {status}")>{status.clone()}</span></A>
                                " " <When at=at />
                            </p>
                        }))
                        .collect_view()}
                    {d.may_silence.then(|| view! { <SilenceButton matchers=owner_matchers(&a.alertname, &a.service, &a.project) /> })}
                    {(d.truncated_alerts > 0).then(|| view! {
                        <p class="warning" data-testid="truncated">
                            {format!(
                                "Alertmanager left {} of this group out of its message (its max_alerts): they are not listed here.",
                                crate::model::counted(d.truncated_alerts as i64, "more alert")
                            )}
                        </p>
                    })}
                    {(a.notified == 0).then(|| view! {
                        <p class="warning" data-testid="unrouted"><NobodyTold /> "No notifier was told of this alert: the routing says why."</p>
                    })}
                    <p><LabelChips labels=a.labels.clone() /></p>
                    <section class="card">
                        <h2>"Routing"</h2>
                        <ul>{d.routing.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
                    </section>
                    <section class="card">
                        <h2>"Deliveries"</h2>
                        {if d.deliveries.is_empty() {
                            view! { <p class="muted">"Nobody to tell."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>"Kind"</th><th>"To"</th><th>"Status"</th><th>"Attempts"</th><th>"Last error"</th><th>"Next / done"</th></tr></thead>
                                    <tbody>
                                        {d.deliveries.iter().map(|x| view! {
                                            <tr class=x.status.clone()>
                                                <td>{x.kind.clone()}</td>
                                                <td data-label="To">{x.target.clone()}</td>
                                                <td data-label="Status">{x.status.clone()}</td>
                                                <td data-label="Attempts">{x.attempts}</td>
                                                <td data-label="Last error">{x.last_error.clone()}</td>
                                                <td data-label="Next / done"><When at=x.done.clone().unwrap_or_else(|| x.next_attempt.clone()) /></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    </section>
                    <section class="card">
                        <h2>"What happened"</h2>
                        <table class="list events">
                            <tbody>
                                {d.events.iter().map(|e| view! {
                                    <tr><td data-label="At"><When at=e.created.clone() /></td><td>{e.kind.clone()}</td><td>{e.detail.clone()}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </section>
                    <GroupAlerts detail=d.clone() />
                    <section class="card">
                        <h2>"Payload from Alertmanager"</h2>
                        {match d.body.clone() {
                            Some(body) => view! { <pre class="yaml">{body}</pre> }.into_any(),
                            None => view! {
                                <p>
                                    {format!("{} KiB of JSON: ", (d.body_bytes + 1023) / 1024)}
                                    <a href=format!("/alert/{}/payload", a.id) rel="external" target="_blank">"open the payload"</a>
                                </p>
                            }.into_any(),
                        }}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}

/// The group's alerts: the first [`ALERTS_SHOWN`], each with the labels it does not share with
/// the group, and how many more there are.
#[component]
fn GroupAlerts(detail: AlertDetail) -> impl IntoView {
    let common = detail.alert.labels.clone();
    let more = (detail.alert.alerts.max(0) as u64).saturating_sub(detail.alerts.len() as u64) + detail.truncated_alerts;
    view! {
        <section class="card">
            <h2>"Alerts in this group"</h2>
            <table class="list">
                <thead><tr><th>"Status"</th><th>"Labels of its own"</th><th>"Since"</th><th>"Summary"</th></tr></thead>
                <tbody>
                    {detail.alerts.into_iter().map(|x| {
                        let own: LabelMap = x.labels.into_iter().filter(|(k, _)| !common.contains_key(k)).collect();
                        view! {
                            <tr>
                                <td>{x.status}</td>
                                <td><LabelChips labels=own /></td>
                                <td data-label="Since"><When at=x.starts_at /></td>
                                <td>{x.annotations.get("summary").cloned().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(more > 0).then(|| view! { <p class="muted" data-testid="more-alerts">{format!("… and {more} more")}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: i64, alertname: &str, service: &str, project: &str, status: &str) -> AlertSummary {
        AlertSummary {
            id: AlertId(id),
            received: String::new(),
            status: status.into(),
            alertname: alertname.into(),
            service: service.into(),
            project: project.into(),
            alerts: 2,
            sent_count: 1,
            error_count: 0,
            group_key: format!("{id}"),
            labels: Default::default(),
            notified: 1,
        }
    }

    #[test]
    fn a_line_per_alert_and_service_firing_first() {
        let lines = lines(&[
            delivery(1, "Down", "web", "b", "firing"),
            delivery(2, "Slow", "web", "", "resolved"),
            delivery(3, "Down", "db", "x", "resolved"),
            delivery(4, "Down", "web", "a", "firing"),
            delivery(5, "Down", "web", "b", "resolved"),
        ]);
        let shown: Vec<_> = lines
            .iter()
            .map(|l| {
                (
                    l.alertname.as_str(),
                    l.service.as_str(),
                    l.projects.join(","),
                    l.firing_groups,
                    l.latest.as_ref().unwrap().id.0,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("Down", "web", "a,b".to_string(), 2, 5),
                ("Down", "db", "x".into(), 0, 3),
                ("Slow", "web", "".into(), 0, 2)
            ]
        );
        assert_eq!((lines[0].firing_alerts, lines[0].sent), (4, 3));
    }

    #[test]
    fn notifications_being_retried_are_pending_not_lost() {
        // Three queued: one sent, one given up, one waiting for its next attempt.
        let retried =
            AlertSummary { notified: 3, sent_count: 1, error_count: 1, ..delivery(1, "Down", "web", "", "firing") };
        assert_eq!(retried.pending(), 1);
        let line = &lines(&[retried, delivery(2, "Down", "web", "", "resolved")])[0];
        assert_eq!((line.sent, line.errors, line.pending), (2, 1, 1));
        // Counters never say less than nothing.
        assert_eq!(AlertSummary { notified: 0, ..delivery(3, "Down", "web", "", "firing") }.pending(), 0);
    }
}
