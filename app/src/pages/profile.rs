//! One's own page: API tokens (made here, the key shown once; revoked here) and one's own
//! notifiers, which the services and projects one subscribes to use.

use crate::api::alerts::owner_notifiers;
use crate::api::alerts::{CreateToken, RevokeToken, Subscribe, get_profile};
use crate::api::auth::{ChangePassword, EndOtherSessions, EndSession};
use crate::components::{
    ConfirmSubmit, Field, FormError, Held, Loading, PageError, PostAction, PostForm, Session, When, checks, deferred,
    successes,
};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let create = PostAction::new::<CreateToken>();
    let create_done = successes(create);
    let revoke = PostAction::new::<RevokeToken>();
    let revoke_done = successes(revoke);
    let change_password = PostAction::new::<ChangePassword>();
    let change_password_done = successes(change_password);
    let end = PostAction::new::<EndSession>();
    let end_done = successes(end);
    let end_others = PostAction::new::<EndOtherSessions>();
    let end_others_done = successes(end_others);
    let unsubscribe = PostAction::new::<Subscribe>();
    let unsubscribe_done = successes(unsubscribe);
    // One's notifiers, made before the view, which is drawn again after each change (see
    // `Held`); their owner is the logged-in user.
    let session = Session::user();
    let notifiers = Held::new(
        || Some(0),
        move |_| async move {
            match session.await {
                Ok(Some(me)) => owner_notifiers("user".to_string(), me.id.0).await,
                Ok(None) => Err(AppError::Unauthenticated),
                Err(e) => Err(e),
            }
        },
    );
    let profile = Resource::new(
        move || {
            create_done.get()
                + revoke_done.get()
                + end_done.get()
                + end_others_done.get()
                + change_password_done.get()
                + unsubscribe_done.get()
        },
        |_| get_profile(),
    );
    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let p = match profile.await {
                    Ok(p) => p,
                    Err(e) => return view! { <PageError error=e /> }.into_any(),
                };
                let me = p.user.id.0;
                view! {
                    <Title text={p.user.username.clone()} />
                    <h1>{p.user.username.clone()}</h1>
                    <p class="muted">
                        {if p.user.is_superuser { "Admin. " } else { "" }}
                        {if p.process_alerts { "May post alerts (Alertmanager's webhook)." } else { "May not post alerts; an admin can allow it (promgen grant-alerts)." }}
                    </p>
                    <section class="card" id="tokens">
                        <h2>"API tokens"</h2>
                        <p class="muted">"For Alertmanager: " <code>"webhook_configs: [{url: <this server>/api/v1/alerts, http_config: {authorization: {type: Token, credentials: <key>}}}]"</code></p>
                        {if p.tokens.is_empty() {
                            view! { <p class="muted">"No tokens."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>"Name"</th><th>"Key starts"</th><th>"Created"</th><th>"Last used"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {p.tokens.into_iter().map(|t| view! {
                                            <tr>
                                                <td>{token_name(&t)}</td>
                                                <td><code>{t.prefix.clone()} "…"</code></td>
                                                <td data-label="Created"><When at=t.created.clone() /></td>
                                                <td data-label="Last used"><When at=t.last_used.clone().unwrap_or_default() /></td>
                                                <td>
                                                    <PostForm action=revoke attr:class="inline">
                                                        <input type="hidden" name="id" value=t.id.to_string() />
                                                        <ConfirmSubmit label="Revoke" class="small danger" question=format!("Revoke the token {}? Whatever uses it is refused from now on.", token_name(&t)) />
                                                    </PostForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        <FormError action=revoke />
                        <PostForm action=create>
                            <Field label="New token, for" name="name" placeholder="alertmanager" />
                            <button type="submit">"Make a token"</button>
                        </PostForm>
                        <FormError action=create />
                        {move || create.answer::<(serde::de::IgnoredAny, String)>().and_then(Result::ok).map(|(_, key)| view! {
                            <p class="ok" role="status">"The key, shown this once: " <code data-testid="token-key">{key}</code></p>
                        })}
                    </section>
                    {deferred::notifiers("user", me, notifiers)}
                    <section class="card" id="subscriptions">
                        <h2>"Subscriptions"</h2>
                        {if p.subscriptions.is_empty() {
                            view! { <p class="muted">"None yet: \"Subscribe me\" on a service or project sends its alerts to your notifiers above."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list">
                                    <thead><tr><th>"To"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {p.subscriptions.clone().into_iter().map(|s| view! {
                                            <tr>
                                                <td><a href=format!("/{}/{}", s.owner_kind, s.owner_id)>{format!("{} {}", s.owner_kind, s.name)}</a></td>
                                                <td>
                                                    <PostForm action=unsubscribe attr:class="inline">
                                                        <input type="hidden" name="owner_kind" value=s.owner_kind.clone() />
                                                        <input type="hidden" name="owner_id" value=s.owner_id.to_string() />
                                                        <input type="hidden" name="on" value="false" />
                                                        <button type="submit" class="small">"Unsubscribe"</button>
                                                    </PostForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                        <FormError action=unsubscribe />
                    </section>
                    <section class="card" id="sessions">
                        <h2>"Signed in"</h2>
                        <p class="muted">"Where you are signed in. End a session you do not know: its browser is logged out at its next request."</p>
                        <table class="list">
                            <thead><tr><th>"Since"</th><th>"By"</th><th>"Last active"</th><th>"Browser"</th><th>"Address"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {p.sessions.clone().into_iter().map(|s| view! {
                                    <tr>
                                        <td data-label="Since"><When at=s.signed_in.clone() /></td>
                                        <td>{s.via.clone()}</td>
                                        <td data-label="Last active"><When at=s.last_active.clone() /></td>
                                        <td title=s.agent.clone()>{s.browser.clone()}</td>
                                        <td>{s.address.clone()}</td>
                                        <td>
                                            {if s.current {
                                                view! { <span class="muted">"This session"</span> }.into_any()
                                            } else {
                                                view! {
                                                    <PostForm action=end attr:class="inline">
                                                        <input type="hidden" name="handle" value=s.handle.clone() />
                                                        <ConfirmSubmit label="End" class="small danger" question=format!("Log out the session of {} from {}?", if s.browser.is_empty() { "an unnamed browser" } else { &s.browser }, s.address) />
                                                    </PostForm>
                                                }.into_any()
                                            }}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {p.sessions.iter().any(|s| !s.current).then(|| view! {
                            <PostForm action=end_others>
                                <ConfirmSubmit label="End all other sessions" class="danger" question="Log out every other browser and device?" />
                            </PostForm>
                        })}
                        <FormError action=end />
                        <FormError action=end_others />
                    </section>
                    {p.has_password.then(|| view! {
                    <section class="card narrow" id="password">
                        <h2>"Password"</h2>
                        <PostForm action=change_password>
                            <Field label="Current password" name="current" kind="password" autocomplete="current-password" />
                            <Field label="New password (8 characters or more)" name="password" kind="password" autocomplete="new-password" check=checks::new_password />
                            <button type="submit">"Change password"</button>
                        </PostForm>
                        <FormError action=change_password />
                        {move || change_password.value().get().and_then(Result::ok).map(|_| view! {
                            <p class="ok" role="status">"Password changed; your other sessions have ended."</p>
                        })}
                    </section>
                    })}
                }.into_any()
            })}
        </Transition>
    }
}

/// How a token is named to people: its name, or for one made without (`promgen create-token`'s
/// default) the start of its key.
fn token_name(t: &crate::model::TokenInfo) -> String {
    if t.name.trim().is_empty() { format!("{}… (no name)", t.prefix) } else { t.name.clone() }
}
