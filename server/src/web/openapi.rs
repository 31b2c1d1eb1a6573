//! The OpenAPI 3.1 document of Promgen-rs' HTTP interfaces, made from the code at start:
//! REST v2, the files Prometheus pulls and the Alertmanager webhook from their handlers'
//! `#[utoipa::path]`s (the same declarations that route them, through utoipa-axum), and every
//! server function from the list below, its arguments and answer traced from their serde types
//! (serde-reflection). Served at `/rest/v2/schema` (JSON; YAML with `?format=yaml`), and shown
//! by Swagger UI (npm `swagger-ui-dist`, served from this server) at `/docs` and
//! `/rest/v2/docs`.

use super::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use leptos::server_fn::ServerFn;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use serde_reflection::{ContainerFormat, Format, Named, Registry, Samples, Tracer, TracerConfig, VariantFormat};
use std::sync::Arc;
use utoipa::openapi::OpenApi;

/// One server function: its path, and the schemas of its arguments and of its answer.
struct ServerFunction {
    path: &'static str,
    arguments: Value,
    answer: Value,
}

fn describe<F>() -> ServerFunction
where
    F: ServerFn + DeserializeOwned,
    F::Output: DeserializeOwned,
{
    ServerFunction { path: F::PATH, arguments: schema_of::<F>(), answer: schema_of::<F::Output>() }
}

/// Every server function, by its type (`#[server]` makes one per function). A test checks
/// that this list and the server's registry of server functions are the same.
macro_rules! server_functions {
    ($($module:ident :: { $($f:ident),* $(,)? }),* $(,)?) => {
        fn server_functions() -> Vec<ServerFunction> {
            vec![$($(describe::<app::api::$module::$f>()),*),*]
        }
    };
}

server_functions! {
    admin::{
        ListShards, CreateShard, UpdateShard, DeleteShard, ShardServers, ShardAgents, ForgetAgent, AddServer, RemoveServer, CreateProbe, ListProbes, UpdateProbe, DeleteProbe, AuditLog,
        ImportTargets,
    },
    alerts::{
        CurrentAlerts, AlertHistory, GetAlert, OwnerNotifiers, CreateNotifier, SetNotifierEnabled, DeleteNotifier,
        AddNotifierFilter, DeleteNotifierFilter, UpdateNotifier, TestNotifier, Subscribe, GetProfile, CreateToken,
        RevokeToken,
    },
    auth::{Whoami, LoginOptions, Login, ChangePassword, EndSession, EndOtherSessions, Logout},
    inventory::{
        ListServices, GetService, CreateService, UpdateService, DeleteService, GetProject, CreateProject,
        UpdateProject, DeleteProject, CreateFarm, AddHosts, DeleteHost, DeleteFarm, CreateExporter,
        SetExporterEnabled, DeleteExporter, ExportersUp, TestExporter, CreateUrl, DeleteUrl, GetHost, Search, GetFormChoices,
    },
    members::{
        ObjectMembers, SetMemberRole, AddMember, RemoveMember, ListGroups, CreateGroup, GetGroup, SetGroupMember, AddGroupMember,
        RemoveGroupMember, DeleteGroup, ListUsers, AddUser,
    },
    rules::{
        OwnerRules, GetRule, EditorContext, SaveRule, SetRuleEnabled, DeleteRule, RestoreRule, TestRule, ImportRules,
        GetSite, RulesDialect, RuleFileReport, SetPrometheusVersion, OpenRead, SetOpenRead, UpdateSite, SiteAddressWarning,
    },
    silences::{ListSilences, CreateSilence, ExpireSilence, AlertmanagerAlerts},
}

/// The JSON Schema of a serde type, traced; an open object when it cannot be traced.
fn schema_of<T: DeserializeOwned>() -> Value {
    let mut tracer = Tracer::new(TracerConfig::default());
    let samples = Samples::new();
    let traced = tracer.trace_type::<T>(&samples).map_err(|e| e.to_string()).and_then(|(format, _)| {
        let registry = tracer.registry().map_err(|e| e.to_string())?;
        Ok(json_schema(&format, &registry, 0))
    });
    traced.unwrap_or_else(|_| json!({"type": "object"}))
}

/// How deep a schema is spelled out (types that contain themselves stop here).
const MAX_DEPTH: usize = 12;

fn json_schema(format: &Format, registry: &Registry, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return json!({});
    }
    let inner = |f: &Format| json_schema(f, registry, depth + 1);
    match format {
        Format::Unit => json!({"type": "null"}),
        Format::Bool => json!({"type": "boolean"}),
        Format::I8 | Format::I16 | Format::I32 | Format::I64 | Format::I128 => json!({"type": "integer"}),
        Format::U8 | Format::U16 | Format::U32 | Format::U64 | Format::U128 => {
            json!({"type": "integer", "minimum": 0})
        }
        Format::F32 | Format::F64 => json!({"type": "number"}),
        Format::Char | Format::Str => json!({"type": "string"}),
        Format::Bytes => json!({"type": "string", "format": "binary"}),
        Format::Option(f) => {
            let mut s = inner(f);
            if let Some(o) = s.as_object_mut() {
                o.insert("nullable".into(), json!(true));
            }
            s
        }
        Format::Seq(f) => json!({"type": "array", "items": inner(f)}),
        Format::Map { value, .. } => json!({"type": "object", "additionalProperties": inner(value)}),
        Format::Tuple(items) => json!({"type": "array", "prefixItems": items.iter().map(inner).collect::<Vec<_>>()}),
        Format::TupleArray { content, size } => {
            json!({"type": "array", "items": inner(content), "minItems": size, "maxItems": size})
        }
        Format::TypeName(name) => match registry.get(name) {
            Some(container) => container_schema(container, registry, depth + 1),
            None => json!({}),
        },
        Format::Variable(_) => json!({}),
    }
}

fn container_schema(container: &ContainerFormat, registry: &Registry, depth: usize) -> Value {
    let inner = |f: &Format| json_schema(f, registry, depth + 1);
    match container {
        ContainerFormat::UnitStruct => json!({"type": "null"}),
        ContainerFormat::NewTypeStruct(f) => inner(f),
        ContainerFormat::TupleStruct(items) => {
            json!({"type": "array", "prefixItems": items.iter().map(inner).collect::<Vec<_>>()})
        }
        ContainerFormat::Struct(fields) => object(fields, registry, depth),
        ContainerFormat::Enum(variants) => {
            let one_of: Vec<Value> = variants
                .values()
                .map(|Named { name, value }| match value {
                    VariantFormat::Unit => json!({"const": name}),
                    VariantFormat::NewType(f) => {
                        json!({"type": "object", "properties": {name: inner(f)}, "required": [name]})
                    }
                    VariantFormat::Tuple(items) => json!({"type": "object", "properties": {
                        name: {"type": "array", "prefixItems": items.iter().map(inner).collect::<Vec<_>>()}
                    }, "required": [name]}),
                    VariantFormat::Struct(fields) => json!({"type": "object", "properties": {
                        name: object(fields, registry, depth)
                    }, "required": [name]}),
                    VariantFormat::Variable(_) => json!({}),
                })
                .collect();
            json!({"oneOf": one_of})
        }
    }
}

fn object(fields: &[Named<Format>], registry: &Registry, depth: usize) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for Named { name, value } in fields {
        properties.insert(name.clone(), json_schema(value, registry, depth + 1));
        if !matches!(value, Format::Option(_)) {
            required.push(json!(name));
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The server functions as OpenAPI paths: `POST /api/<name>` taking JSON or a form.
fn server_function_paths() -> Value {
    let mut paths = Map::new();
    for f in server_functions() {
        let name = f.path.trim_start_matches("/api/");
        paths.insert(
            f.path.to_string(),
            json!({"post": {
                "tags": ["server functions"],
                "operationId": name,
                "summary": name.replace('_', " "),
                "description": "What the pages call. With `Authorization: Token <key>` (or a session from a browser); \
                    arguments as a JSON object or a form; the answer as JSON with `Accept: application/json`.",
                "requestBody": {"required": true, "content": {
                    "application/json": {"schema": f.arguments},
                    "application/x-www-form-urlencoded": {"schema": f.arguments},
                }},
                "responses": {
                    "200": {"description": "The answer", "content": {"application/json": {"schema": f.answer}}},
                    "400": {"description": "Invalid: `{\"Invalid\": {\"field\", \"message\"}}`"},
                    "401": {"description": "No session nor valid token"},
                    "403": {"description": "Not allowed"},
                    "404": {"description": "No such object"},
                    "409": {"description": "Taken: `{\"Conflict\": {\"field\", \"message\"}}`"},
                },
            }}),
        );
    }
    Value::Object(paths)
}

/// How every REST v2 operation refuses.
const REST_REFUSALS: [(&str, &str); 4] = [
    ("400", "Invalid: `{\"<field>\": [\"…\"]}`"),
    ("401", "No session nor valid token"),
    ("403", "Not allowed"),
    ("404", "No such object"),
];

/// The whole document: `rest` (REST v2, the files for Prometheus, the webhook) and the server
/// functions, with the two ways to authenticate.
pub fn document(mut rest: OpenApi) -> Value {
    rest.info.title = "Promgen-rs".into();
    rest.info.description = Some(
        "Promgen's REST v2 (the same paths, filters, pagination and answers), the files Prometheus pulls, the \
         Alertmanager webhook, and the server functions the pages call. Authenticate with a browser session or \
         `Authorization: Token <key>` (made on your profile page)."
            .into(),
    );
    rest.info.version = env!("CARGO_PKG_VERSION").into();
    // Not the crate that collected the paths: this project's.
    rest.info.contact = None;
    rest.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    let mut doc = serde_json::to_value(&rest).unwrap_or_else(|_| json!({}));
    // Every REST v2 operation refuses alike (Promgen's DRF bodies): said once, here.
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (_, item) in paths.iter_mut().filter(|(p, _)| p.starts_with("/rest/v2/")) {
            for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    for (status, description) in REST_REFUSALS {
                        responses.entry(status).or_insert_with(|| json!({"description": description}));
                    }
                }
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut)
        && let Value::Object(functions) = server_function_paths()
    {
        paths.extend(functions);
    }
    doc["components"]["securitySchemes"] = json!({
        "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                  "description": "`Token <key>` (or `Bearer <key>`)"},
        "session": {"type": "apiKey", "in": "cookie", "name": "promgen_session"},
    });
    doc["security"] = json!([{"token": []}, {"session": []}]);
    doc
}

#[derive(serde::Deserialize)]
pub struct SchemaQuery {
    format: Option<String>,
}

/// `GET /rest/v2/schema`: the document, JSON or (`?format=yaml`, or asked for by `Accept`)
/// YAML. Public, as Promgen's.
pub async fn schema(
    State(s): State<AppState>,
    Query(q): Query<SchemaQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let yaml = q.format.as_deref() == Some("yaml")
        || headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("yaml"));
    let doc: &Arc<Value> = &s.openapi;
    if yaml {
        match serde_yaml::to_string(doc.as_ref()) {
            Ok(text) => ([(header::CONTENT_TYPE, "application/yaml")], text).into_response(),
            Err(e) => super::errors::response(app::error::AppError::fault("writing the schema", e)),
        }
    } else {
        axum::Json(doc.as_ref().clone()).into_response()
    }
}

/// `GET /docs`: Swagger UI on the document, every asset from this server.
pub async fn docs() -> Html<&'static str> {
    Html(concat!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Promgen-rs API</title>",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">",
        "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\"></head><body>",
        "<div id=\"swagger-ui\"><p>The API's page needs the site built (<code>.ci/build-site</code>); ",
        "the document itself is at <a href=\"/rest/v2/schema\">/rest/v2/schema</a>.</p></div>",
        "<script src=\"/docs/swagger-ui-bundle.js\"></script><script src=\"/docs/init.js\"></script>",
        "</body></html>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_server_function_is_described() {
        let described: std::collections::BTreeSet<&str> = super::server_functions().iter().map(|f| f.path).collect();
        let registered: std::collections::BTreeSet<&str> =
            leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
        assert_eq!(described, registered, "the list in openapi.rs and the server functions differ");
    }

    #[test]
    fn arguments_are_traced_from_their_types() {
        let f = super::server_functions().into_iter().find(|f| f.path == "/api/create_project").unwrap();
        let props = &f.arguments["properties"];
        for arg in ["service_id", "name", "description", "shard_id"] {
            assert!(props.get(arg).is_some(), "{arg} missing: {}", f.arguments);
        }
        assert_eq!(props["service_id"]["type"], "integer");
        assert_eq!(f.answer["properties"]["name"]["type"], "string", "{}", f.answer);
    }
}
