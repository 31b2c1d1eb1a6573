//! Forms that post to a server function: [`PostAction`] and [`PostForm`], one type for every
//! form of the site. The browser posts the form's fields URL-encoded (what a server function's
//! `PostUrl` input reads, and what the browser sends without the wasm, but for line breaks:
//! `\n` here, `\r\n` from a plain form, which the server stores as `\n`) and keeps the answer as
//! JSON text, read by whoever needs it ([`PostAction::answer`]). Leptos' `ServerAction<F>` and
//! `ActionForm` are generic over each server function: each compiled its own copy of the
//! action, the form and the client (the form read into the arguments, written out again, the
//! answer read) into the wasm: one type for all took 56 KB off the main module and 64 KB of
//! brotli off the project page.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::de::DeserializeOwned;

/// A form's submission: the server function's path (`/api/…`) and the form's fields,
/// URL-encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Posted {
    path: &'static str,
    body: String,
    /// Which form sent it ([`SentForms`]); 0 for none ([`PostAction::dispatch`]).
    form: u32,
}

impl Posted {
    /// The first value sent for the field `name`.
    pub fn field(&self, name: &str) -> Option<String> {
        field_of(&self.body, name)
    }
}

/// The first value for the field `name` in the URL-encoded `body`.
fn field_of(body: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(body.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The answer to a post: the server function's answer as JSON text, or its refusal.
pub type Answer = Result<String, AppError>;

/// The action of the forms that post to one server function: what was last sent
/// ([`PostAction::input`]) and answered ([`PostAction::value`]). Copy, as Leptos' actions.
#[derive(Clone, Copy)]
pub struct PostAction {
    action: Action<Posted, Answer>,
    path: &'static str,
    /// The forms that sent posts, which are on their way, which one the last answer is for.
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    sent: StoredValue<SentForms, LocalStorage>,
    /// The post in flight from [`PostAction::dispatch`], given up when a newer one is sent.
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    in_flight: StoredValue<Option<leptos::prelude::ActionAbortHandle>, LocalStorage>,
}

/// The forms one action's posts came from (one action may serve a form on each row). Each
/// post carries its form's number, and its answer says which form it is for: when two rows'
/// posts overlap, the slower answer goes to its own row, not to the row sent last.
#[cfg(any(feature = "hydrate", feature = "csr"))]
#[derive(Default)]
struct SentForms {
    /// The forms sent from, by number (from 1), while they are on the page.
    forms: Vec<(u32, web_sys::HtmlFormElement)>,
    last: u32,
    /// The forms whose post is on its way.
    sending: Vec<u32>,
    /// The form of the last answer (0: none).
    answered: u32,
    /// What the post of the last answer sent (URL-encoded).
    answered_body: String,
    /// Each form's refusal still standing (the form's last answer, not sent again since): a
    /// later answer to another row replaces the action's value, not this row's message.
    refused: Vec<(u32, AppError)>,
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
impl SentForms {
    /// The number of `form`, given now if it had none. A form drawn anew (its list fetched
    /// again after another row's change) keeps the number of the one it replaced: the same
    /// action and hidden inputs, so the same row.
    fn number(&mut self, form: &web_sys::HtmlFormElement) -> u32 {
        if let Some(n) = self.known(form) {
            return n;
        }
        let standing = |n: &u32| self.sending.contains(n) || self.refused.iter().any(|(r, _)| r == n);
        self.forms.retain(|(n, f)| f.is_connected() || standing(n));
        self.last += 1;
        self.forms.push((self.last, form.clone()));
        self.last
    }

    /// The number `form` has, if it has one: its own, or that of the form it replaced (drawn
    /// anew), which it takes the place of.
    fn known(&mut self, form: &web_sys::HtmlFormElement) -> Option<u32> {
        use super::keep_focus::FormMark;
        let mark = std::cell::OnceCell::new();
        let replaced = |f: &web_sys::HtmlFormElement| {
            !f.is_connected() && FormMark::of(f) == *mark.get_or_init(|| FormMark::of(form))
        };
        let (n, f) = self.forms.iter_mut().find(|(_, f)| f == form || replaced(f))?;
        *f = form.clone();
        Some(*n)
    }

    /// The post from form `n` is sent: its earlier refusal is over.
    fn sending(&mut self, n: u32) {
        self.sending.push(n);
        self.refused.retain(|(r, _)| *r != n);
    }

    /// The answer to the post from form `n` came; `refusal` when it refused.
    fn answered(&mut self, n: u32, body: String, refusal: Option<&AppError>) {
        self.sending.retain(|s| *s != n);
        self.answered = n;
        self.answered_body = body;
        if let Some(refusal) = refusal.filter(|_| n != 0) {
            self.refused.push((n, refusal.clone()));
        }
    }

    /// Something was typed into `form`: its standing refusal is over (its message went with
    /// the field's first change), and is not shown again when the list is drawn anew. Whether
    /// the last answer was this form's (or the address's).
    fn edited(&mut self, form: &web_sys::HtmlFormElement) -> bool {
        // A form never sent: the last answer, if any, came in the page's address (a form
        // posted without JavaScript), and is over too.
        let Some(n) = self.known(form) else { return self.answered == 0 };
        self.refused.retain(|(r, _)| *r != n);
        n == self.answered
    }

    /// Form `n`, or the same form drawn anew since; `None` once it is gone.
    fn form(&self, n: u32) -> Option<web_sys::HtmlFormElement> {
        use wasm_bindgen::JsCast;
        let form = self.forms.iter().find(|(m, _)| *m == n).map(|(_, f)| f.clone())?;
        if form.is_connected() {
            return Some(form);
        }
        let document = form.owner_document()?;
        super::keep_focus::same_form(&document, &super::keep_focus::FormMark::of(&form))?.dyn_into().ok()
    }
}

impl PostAction {
    /// The action of the server function `S`. A refusal of a form posted without the wasm comes
    /// back in the page's address (leptos_axum sends the browser back with it): it is the
    /// action's first answer, as with Leptos' `ServerAction`.
    pub fn new<S: ServerFn>() -> Self {
        Self::at(S::PATH)
    }

    /// [`PostAction::new`] for the server function at `path`: not generic, so the action is
    /// compiled once, not once for each server function.
    #[inline(never)]
    fn at(path: &'static str) -> Self {
        // The router keeps the refusal it read from the first page's address for the tab's
        // life: a page shown later by a link is not the one it was for.
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        let in_address = window().location().search().is_ok_and(|q| q.contains("__err="));
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        let in_address = true;
        let refused = use_context::<leptos::server::ServerActionError>()
            .filter(|e| in_address && e.path() == path)
            .map(|e| Err(leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(e.err())));
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        let sent = StoredValue::new_local(SentForms::default());
        PostAction {
            action: Action::new_with_value(refused, move |posted: &Posted| {
                let posted = posted.clone();
                async move {
                    let (form, body) = (posted.form, posted.body.clone());
                    let answer = post(posted).await;
                    // Before the action stores the answer, so that whoever reads it finds its form.
                    #[cfg(any(feature = "hydrate", feature = "csr"))]
                    sent.update_value(|s| s.answered(form, body, answer.as_ref().err()));
                    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
                    let _ = (form, body);
                    answer
                }
            }),
            path,
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            sent,
            #[cfg(any(feature = "hydrate", feature = "csr"))]
            in_flight: StoredValue::new_local(None),
        }
    }

    /// The server function's path: the forms' `action`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The last answer (`None` before the first and once forgotten); set it to `None` to forget.
    pub fn value(&self) -> MappedSignal<Option<Answer>> {
        self.action.value()
    }

    /// The last answer read as `T` (the server function's output type); an answer that does
    /// not read is a [`AppError::Request`].
    pub fn answer<T: DeserializeOwned>(&self) -> Option<Result<T, AppError>> {
        self.action.value().get().map(|answer| {
            answer.and_then(|text| serde_json::from_str(&text).map_err(|e| AppError::Request(e.to_string())))
        })
    }

    /// What is being sent, while it is.
    pub fn input(&self) -> MappedSignal<Option<Posted>> {
        self.action.input()
    }

    /// Whether an answer is awaited.
    pub fn pending(&self) -> Memo<bool> {
        self.action.pending()
    }

    /// How many answers came, refusals included.
    pub fn version(&self) -> RwSignal<usize> {
        self.action.version()
    }

    /// The value the post of the last answer sent for the field `name` (which row's form it
    /// was: its hidden `id`), tracked as the answer is; `None` before an answer and on the
    /// server.
    pub fn answered_field(&self, name: &str) -> Option<String> {
        self.action.value().track();
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        {
            self.sent.try_with_value(|s| field_of(&s.answered_body, name)).flatten()
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        {
            let _ = name;
            None
        }
    }

    /// The form the last answer is for, or the same form drawn anew since it was sent; `None`
    /// when that post had no form ([`PostAction::dispatch`]) or its form is gone.
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    pub fn answered_form(&self) -> Option<web_sys::HtmlFormElement> {
        self.sent.try_with_value(|s| s.form(s.answered)).flatten()
    }

    /// The refusals of the other forms (rows) this action serves that still stand, each with
    /// its form as it is on the page now (`None`: not drawn, deleted or not yet drawn anew):
    /// the last answer was for another form, which replaced the action's value but not these
    /// rows' messages.
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    pub fn earlier_refusals(&self) -> Vec<(Option<web_sys::HtmlFormElement>, AppError)> {
        self.sent
            .try_with_value(|s| {
                let earlier = s.refused.iter().filter(|(n, _)| *n != s.answered);
                earlier.map(|(n, e)| (s.form(*n), e.clone())).collect()
            })
            .unwrap_or_default()
    }

    /// Whether the last answer was for a form of the page (not a [`PostAction::dispatch`], not
    /// a refusal sent back in the address).
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    pub fn answered_a_form(&self) -> bool {
        self.sent.try_with_value(|s| s.answered != 0).unwrap_or(false)
    }

    /// Sends `fields` as a form with them would. A post of an earlier call still in flight is
    /// given up: only the latest answer is shown (a slow test of an expression since changed
    /// came back last and replaced the new one's result).
    pub fn dispatch(&self, fields: &[(&str, String)]) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let handle = self.action.dispatch(Posted { path: self.path, body, form: 0 });
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        {
            if let Some(Some(earlier)) = self.in_flight.try_update_value(|h| h.replace(handle)) {
                earlier.abort();
            }
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        let _ = handle;
    }
}

/// Posts `posted` as the browser does, reads the answer as server_fn's client does: a
/// 4xx or 5xx is the error (JSON, [`AppError`]'s encoding), a redirect from the server
/// (`leptos_axum::redirect`) goes through the router's redirect hook.
#[cfg(any(feature = "hydrate", feature = "csr"))]
async fn post(posted: Posted) -> Answer {
    use leptos::server_fn::client::{Client, browser::BrowserClient};
    use leptos::server_fn::request::{ClientReq, browser::BrowserRequest};
    use leptos::server_fn::response::ClientRes;
    let request = <BrowserRequest as ClientReq<AppError>>::try_new_post(
        posted.path,
        "application/x-www-form-urlencoded",
        "application/json",
        posted.body,
    )?;
    let response = <BrowserClient as Client<AppError>>::send(request).await?;
    let status = ClientRes::<AppError>::status(&response);
    let location = ClientRes::<AppError>::location(&response);
    let redirect = ClientRes::<AppError>::has_redirect(&response);
    if (400..=599).contains(&status) {
        // A refusal is AppError's JSON; a proxy's or the body limit's answer is plain text,
        // which is shown as it is (not as a JSON reader's complaint about it).
        let text = ClientRes::<AppError>::try_into_string(response).await?;
        return Err(serde_json::from_str(&text).unwrap_or_else(|_| refusal_text(status, &text)));
    }
    let text = ClientRes::<AppError>::try_into_string(response).await?;
    if (300..=399).contains(&status) || redirect {
        // What the answer says ("Deleted the service web.") is said on the page it goes to;
        // read there (not here, in the main module, which every first page loads).
        SAID.with(|s| *s.borrow_mut() = Some((location.clone(), text.clone())));
        leptos::server_fn::redirect::call_redirect_hook(&location);
    }
    Ok(text)
}

#[cfg(any(feature = "hydrate", feature = "csr"))]
thread_local! {
    /// The path the last redirected post went to and its answer (JSON), until that page takes
    /// them.
    static SAID: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
}

/// What a post that moved the browser to this page said of itself ("Deleted the service
/// web."): its own page is gone, so the page it went to says it, once. Put it at the top of
/// every page a delete goes to. Taken from the post's answer, never from the URL: a link cannot
/// make the site say something. Nothing on the server or without the wasm.
#[component]
pub fn SaidAfterPost() -> impl IntoView {
    #[cfg(any(feature = "hydrate", feature = "csr"))]
    let said = {
        let here = leptos_router::hooks::use_location().pathname.get_untracked();
        let taken = SAID.with(|s| s.borrow_mut().take()).filter(|(at, _)| *at == here);
        taken.and_then(|(_, answer)| serde_json::from_str::<String>(&answer).ok())
    };
    #[cfg(not(any(feature = "hydrate", feature = "csr")))]
    let said = None::<String>;
    said.map(|said| view! { <p class="ok" role="status">{said}</p> })
}

/// A refusal that is not AppError's JSON: its text (the first 300 characters), or its status.
#[cfg(any(feature = "hydrate", feature = "csr", test))]
fn refusal_text(status: u16, text: &str) -> AppError {
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        AppError::Request(format!("the server answered {status}"))
    } else {
        AppError::Request(text.chars().take(300).collect())
    }
}

/// Forms are posted by the browser only.
#[cfg(not(any(feature = "hydrate", feature = "csr")))]
async fn post(posted: Posted) -> Answer {
    Err(AppError::Internal(format!("{} was posted on the server", posted.path)))
}

/// A form posting to `action`'s server function: without the wasm a plain form, with it sent
/// within the page ([`PostAction`]). Attributes (`attr:class`) go on the `<form>`.
#[component]
pub fn PostForm(action: PostAction, children: Children) -> impl IntoView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Another handler may have stopped it (a check that refused the form).
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        if !ev.default_prevented()
            && let Some((form, body)) = form_body(&ev)
        {
            ev.prevent_default();
            // One post per form at a time: a second Enter or click while the first is on its
            // way made a second token (whose key nobody saw) or a 409 for the same service.
            let number = action.sent.try_update_value(|s| {
                let n = s.number(&form);
                (!s.sending.contains(&n)).then(|| {
                    s.sending(n);
                    n
                })
            });
            if let Some(Some(n)) = number {
                action.action.dispatch(Posted { path: action.path, body, form: n });
            }
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        let _ = ev;
    };
    // Typed (not refilled by keep_typed, whose events are untrusted): the form's refusal is
    // over, also the action's last answer when it is this form's.
    let on_input = move |ev: leptos::ev::Event| {
        #[cfg(any(feature = "hydrate", feature = "csr"))]
        if ev.is_trusted()
            && let Some(form) = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into(t).ok())
            && action.sent.try_update_value(|s| s.edited(&form)) == Some(true)
            && action.action.value().with_untracked(|v| matches!(v, Some(Err(_))))
        {
            action.action.value().set(None);
        }
        #[cfg(not(any(feature = "hydrate", feature = "csr")))]
        let _ = ev;
    };
    view! {
        <form action=action.path method="post" on:submit=on_submit on:input=on_input>
            {children()}
        </form>
    }
}

/// The submitted form and the fields it sends, URL-encoded (FormData through URLSearchParams):
/// a post's body, or a GET form's query ([`super::get_within_page`]).
#[cfg(any(feature = "hydrate", feature = "csr"))]
pub(super) fn form_body(ev: &leptos::ev::SubmitEvent) -> Option<(web_sys::HtmlFormElement, String)> {
    use wasm_bindgen::JsCast;
    let form = ev.target()?.dyn_into::<web_sys::HtmlFormElement>().ok()?;
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    // The button that sent it goes too when it has a name, as the browser sends it.
    let named = |(name, value): (String, String)| (!name.is_empty()).then_some((name, value));
    let submitter = ev.submitter().and_then(|s| match s.dyn_into::<web_sys::HtmlButtonElement>() {
        Ok(b) => named((b.name(), b.value())),
        Err(s) => s.dyn_into::<web_sys::HtmlInputElement>().ok().and_then(|i| named((i.name(), i.value()))),
    });
    if let Some((name, value)) = submitter {
        data.append_with_str(&name, &value).ok()?;
    }
    // A time picker's value has no zone: it is sent as the instant it names in the reader's
    // zone (RFC 3339, UTC), as JavaScript reads it (daylight saving's gaps and repeats too).
    if let Ok(pickers) = form.query_selector_all("input[type=datetime-local][name]") {
        for picker in
            (0..pickers.length()).filter_map(|i| pickers.item(i)?.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            let at = js_sys::Date::new(&picker.value().into());
            if !picker.value().is_empty() && !at.get_time().is_nan() {
                data.set_with_str(&picker.name(), &String::from(at.to_iso_string())).ok()?;
            }
        }
    }
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?.to_string().into();
    Some((form, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal that is not JSON (the body limit's 413, a proxy's page) is shown as its
    /// text, or as its status when that is markup or nothing.
    #[test]
    fn plain_text_refusals_are_shown_as_text() {
        let too_large = refusal_text(413, "the request body is larger than 4194304 bytes\n");
        assert_eq!(too_large, AppError::Request("the request body is larger than 4194304 bytes".into()));
        assert_eq!(refusal_text(502, "<html>Bad Gateway</html>"), AppError::Request("the server answered 502".into()));
        assert_eq!(refusal_text(500, ""), AppError::Request("the server answered 500".into()));
    }

    /// A field is read back as the form sent it, encoded characters included.
    #[test]
    fn fields_read_back_as_sent() {
        let posted = Posted { path: "/api/x", body: "hosts=a%0D%0Ab+c&id=3&id=4".into(), form: 0 };
        assert_eq!(posted.field("hosts").as_deref(), Some("a\r\nb c"));
        assert_eq!(posted.field("id").as_deref(), Some("3"));
        assert_eq!(posted.field("none"), None);
    }
}
