use crate::api::auth::{Login, login_options};
use crate::components::{Field, FormError, PostAction, PostForm, RedirectTo, Session};
use leptos::prelude::*;
use leptos_meta::Title;

/// The login page: a button per identity provider, and the password form unless the site
/// turned local accounts off. `next` (a path of this site) is kept through either way; a user
/// already logged in goes straight there.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = PostAction::new::<Login>();
    let query = super::query();
    let next = move || query("next").unwrap_or_else(|| "/".into());
    // A user already logged in is sent on to `next` instead.
    let options = Resource::new(move || query("next"), login_options);
    // The header shows who is logged in as soon as the server says yes.
    Effect::new(move || {
        if matches!(login.value().get(), Some(Ok(_))) {
            Session::changed();
        }
    });
    view! {
        <section class="card narrow">
            <Title text="Log in" />
            <h1>"Log in"</h1>
            <Suspense>
                {move || {
                    options
                        .get()
                        .map(|o| {
                            let o = o.unwrap_or_default();
                            if let Some(path) = o.logged_in_next {
                                return view! { <RedirectTo path /> }.into_any();
                            }
                            let local = o.local_accounts || o.providers.is_empty();
                            view! {
                                <div class="sign-in-providers">
                                    {o
                                        .providers
                                        .into_iter()
                                        .map(|p| {
                                            let href = move || {
                                                let next: String = form_urlencoded::byte_serialize(next().as_bytes())
                                                    .collect();
                                                format!("/login/sso/{}?next={next}", p.id)
                                            };
                                            view! {
                                                // A page of the server, not of the app: the
                                                // browser goes there itself.
                                                <a class="button sign-in" href=href rel="external">
                                                    {format!("Sign in with {}", p.name)}
                                                </a>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                                <Show when=move || local>
                                    <PostForm action=login>
                                        <input type="hidden" name="next" value=next />
                                        <Field label="Username" name="username" autocomplete="username" />
                                        <Field
                                            label="Password"
                                            name="password"
                                            kind="password"
                                            autocomplete="current-password"
                                        />
                                        <button type="submit">"Log in"</button>
                                    </PostForm>
                                </Show>
                            }
                            .into_any()
                        })
                }}
            </Suspense>
            <FormError action=login />
        </section>
    }
}
