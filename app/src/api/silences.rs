//! Silences in the configured Alertmanagers, and the alerts they hold now.

use crate::api::json_text::JsonText;
use crate::error::AppError;
use crate::model::silences::*;
use leptos::prelude::*;

/// The active and pending silences the caller may see.
#[server(endpoint = "list_silences", output = JsonText)]
pub async fn list_silences() -> Result<SilenceList, AppError> {
    let (b, actor) = super::caller().await?;
    b.silences.list(&actor).await
}

/// Makes a silence in every Alertmanager: `matchers` in amtool's syntax (`service="web",
/// instance=~"db-.*"`), from `starts_at` to `ends_at` when either is given, else for
/// `duration` (`2h`, `1h30m`) from now. Times are RFC 3339; one without a zone is UTC (the
/// page sends its time pickers' values as the instants they name in the reader's zone).
#[server(endpoint = "create_silence", output = JsonText)]
pub async fn create_silence(
    matchers: String,
    duration: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    comment: Option<String>,
) -> Result<SilenceMade, AppError> {
    let (b, actor) = super::caller().await?;
    let parsed = parse_matchers(&matchers).map_err(|m| AppError::invalid("matchers", m))?;
    let window = window(duration.unwrap_or_default(), starts_at.unwrap_or_default(), ends_at.unwrap_or_default())?;
    let made =
        b.silences.create(&actor, parsed, &window, &comment.unwrap_or_default(), None).await.map_err(form_fields)?;
    // To the silences page without a mute button's `?matchers=`: without JavaScript the
    // browser came back to that address, which offered the same matchers again (a second
    // click made a twin). The page lists the new silence; with JavaScript it also says so.
    leptos_axum::redirect("/silence");
    Ok(made)
}

/// The silence form's window: with "Until", from "From" to it (both needed, as in Promgen);
/// else "For" from "From", or from now.
#[cfg(feature = "ssr")]
fn window(duration: String, starts_at: String, ends_at: String) -> Result<crate::backend::silences::Window, AppError> {
    use crate::backend::silences::Window;
    let given = |s: &String| !s.trim().is_empty();
    Ok(match (given(&starts_at), given(&ends_at), given(&duration)) {
        (false, true, _) => Window::Until(ends_at),
        (true, true, _) | (true, false, false) => Window::Between(starts_at, ends_at),
        (true, false, true) => Window::ForFrom(starts_at, duration),
        (false, false, true) => Window::For(duration),
        (false, false, false) => {
            return Err(AppError::invalid("duration", "give a duration (e.g. 2h), or an end"));
        }
    })
}

/// The backend names the window's ends as Promgen's and Alertmanager's JSON does (`startsAt`,
/// `endsAt`) and keeps Promgen's words for a window missing an end or ending before it
/// starts; this form's fields are `starts_at` and `ends_at`, labelled From, For and Until.
#[cfg(feature = "ssr")]
fn form_fields(error: AppError) -> AppError {
    use crate::backend::silences::{START_END_MISMATCHED, START_END_REQUIRED};
    match error {
        AppError::Invalid(mut e) => {
            e.field = match e.field.as_str() {
                "startsAt" => "starts_at".into(),
                "endsAt" => "ends_at".into(),
                _ => e.field,
            };
            if e.message == START_END_MISMATCHED {
                e.message = "must be after From".into();
            } else if e.message == START_END_REQUIRED {
                e.message = "give For or Until with From".into();
            }
            AppError::Invalid(e)
        }
        other => other,
    }
}

/// Expires a silence in every Alertmanager that holds it.
#[server(endpoint = "expire_silence", output = JsonText)]
pub async fn expire_silence(id: String) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.silences.expire(&actor, &id).await
}

/// The alerts the Alertmanagers hold now that the caller may see.
#[server(endpoint = "alertmanager_alerts", output = JsonText)]
pub async fn alertmanager_alerts() -> Result<HeldAlerts, AppError> {
    let (b, actor) = super::caller().await?;
    b.silences.alerts(&actor).await
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// A refused window names the form's own fields, so the page puts the reason under them.
    #[test]
    fn the_window_errors_name_the_forms_fields() {
        let now = chrono::Utc::now();
        let between = |a: &str, b: &str| crate::backend::silences::Window::Between(a.into(), b.into());
        let field = |w| form_fields(crate::backend::silences::resolve(&w, now).unwrap_err()).field().map(String::from);
        assert_eq!(field(between("2030-01-01T00:00", "")).as_deref(), Some("ends_at"));
        assert_eq!(field(between("", "2030-01-01T00:00")).as_deref(), Some("starts_at"));
        assert_eq!(field(between("2030-01-02T00:00", "2030-01-01T00:00")).as_deref(), Some("ends_at"));
        // In the form's words, not Promgen's (which its REST callers read).
        let message = |w| form_fields(crate::backend::silences::resolve(&w, now).unwrap_err()).to_string();
        assert!(message(between("2030-01-02T00:00", "2030-01-01T00:00")).contains("must be after From"));
        assert!(message(between("2030-01-01T00:00", "")).contains("give For or Until with From"));
        // From with For is For from then; Until wins over For, and runs from now without From
        // (as its label says).
        use crate::backend::silences::Window;
        let w = |d: &str, s: &str, e: &str| window(d.into(), s.into(), e.into()).unwrap();
        assert_eq!(w("2h", "2030-01-01T00:00", ""), Window::ForFrom("2030-01-01T00:00".into(), "2h".into()));
        assert_eq!(w("2h", "", "2030-01-01T00:00"), Window::Until("2030-01-01T00:00".into()));
        assert_eq!(
            w("", "2029-01-01T00:00", "2030-01-01T00:00"),
            Window::Between("2029-01-01T00:00".into(), "2030-01-01T00:00".into())
        );
        assert_eq!(w("2h", "", ""), Window::For("2h".into()));
        let e = form_fields(AppError::invalid("duration", "x"));
        assert_eq!(e.to_string(), "For: x");
    }
}
