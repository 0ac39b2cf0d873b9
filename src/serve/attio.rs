//! Attio's REST API: reading records for hydration, answering `find` and schedule
//! scans, writing attribute values — and the one mapping between Attio's value shapes
//! and the schema's types (serve.md §2).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::config::Secret;
use super::limits::Rate;
use crate::schema::{Object, Type};

/// Why a call failed, in the terms the outbox needs.
#[derive(Debug)]
pub struct ApiError {
    /// What happened (never a secret: no header is quoted).
    pub message: String,
    /// Worth trying again (429, 5xx, a timeout).
    pub retryable: bool,
    /// The target's `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

impl ApiError {
    fn transport(e: reqwest::Error) -> ApiError {
        ApiError {
            message: format!("cannot reach {}", unreachable(&e)),
            retryable: true,
            retry_after: None,
        }
    }
}

/// What kept a request from its answer, and where it went: the host, never the
/// whole URL (a query string may carry ids worth keeping out of logs; tokens travel
/// in headers and never show).
fn unreachable(e: &reqwest::Error) -> String {
    let host = e
        .url()
        .and_then(|url| {
            let host = url.host_str()?;
            Some(match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_string(),
            })
        })
        .unwrap_or_else(|| "the API".into());
    let what = if e.is_timeout() {
        "no answer in time ([serve] timeout_ms)"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // The innermost cause says why: "Connection refused (os error 111)".
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let cause = cause.to_string();
    match e.url() {
        Some(url) if cause.contains(url.as_str()) => format!("{host}: {what}"),
        _ => format!("{host}: {what}: {cause}"),
    }
}

/// Reads the answer to a call: the JSON body on success, an [`ApiError`] otherwise.
pub async fn answer(
    response: Result<reqwest::Response, reqwest::Error>,
    what: &str,
) -> Result<Json, ApiError> {
    let response = response.map_err(ApiError::transport)?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after_seconds);
    let body = response.text().await.map_err(ApiError::transport)?;
    if status.is_success() {
        // A receiver that answers text (an `http` step's) is bound as text.
        return Ok(match serde_json::from_str(&body) {
            Ok(json) => json,
            Err(_) if body.trim().is_empty() => Json::Null,
            Err(_) => Json::String(body),
        });
    }
    let detail: String = serde_json::from_str::<Json>(&body)
        .ok()
        .and_then(|j| j.get("message").and_then(Json::as_str).map(str::to_string))
        .unwrap_or_default();
    Err(ApiError {
        message: format!(
            "{what}: {status}{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
        retryable: status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408,
        retry_after,
    })
}

/// `Retry-After` as seconds: a number of seconds (Slack) or an HTTP date (Attio).
pub fn retry_after_seconds(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.timestamp() - chrono::Utc::now().timestamp();
    Some(wait.max(0) as u64)
}

/// An HTTP client for an API: a timeout (`[serve] timeout_ms`), so a target that
/// hangs is a retryable failure, not a stuck effect.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap_or_default()
}

/// A client of one Attio workspace.
pub struct Attio {
    http: reqwest::Client,
    base: String,
    token: Secret,
    /// Object ids (as webhooks name them) to slugs.
    slugs: Mutex<HashMap<String, String>>,
    /// Workspace member ids to email addresses.
    members: Mutex<HashMap<String, String>>,
    /// Lists, by name and by id: `(name, id)`.
    lists: Mutex<Vec<(String, String)>>,
    reads: Rate,
    writes: Rate,
}

impl Attio {
    /// A client for the API at `base` (`https://api.attio.com`).
    pub fn new(base: &str, token: Secret, timeout: Duration) -> Attio {
        Attio {
            http: client(timeout),
            base: base.trim_end_matches('/').to_string(),
            token,
            slugs: Mutex::new(HashMap::new()),
            members: Mutex::new(HashMap::new()),
            lists: Mutex::new(Vec::new()),
            reads: Rate::per_second(0),
            writes: Rate::per_second(0),
        }
    }

    /// Limits calls to `reads` and `writes` a second (0: none).
    pub fn limited(mut self, reads: u32, writes: u32) -> Attio {
        self.reads = Rate::per_second(reads);
        self.writes = Rate::per_second(writes);
        self
    }

    /// A read of the API (counted against the read limit): the answer's JSON.
    pub(crate) async fn get(&self, path: &str, what: &str) -> Result<Json, ApiError> {
        self.reads.wait().await;
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.reveal())
            .send()
            .await;
        answer(response, what).await
    }

    /// A call with a JSON body (counted against the write limit, or the read limit
    /// for a query): the answer's JSON.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Json,
        what: &str,
    ) -> Result<Json, ApiError> {
        // A query reads, as Attio counts it.
        match path.ends_with("/query") {
            true => self.reads.wait().await,
            false => self.writes.wait().await,
        }
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.reveal())
            .json(body)
            .send()
            .await;
        answer(response, what).await
    }

    /// The slug (`deals`) of the object a webhook names by id; a slug is its own slug.
    pub async fn object_slug(&self, object: &str) -> Result<String, ApiError> {
        if let Some(slug) = self.slugs.lock().ok().and_then(|s| s.get(object).cloned()) {
            return Ok(slug);
        }
        let body = self
            .get(&format!("/v2/objects/{object}"), "reading the object")
            .await?;
        let slug = body["data"]["api_slug"]
            .as_str()
            .unwrap_or(object)
            .to_string();
        if let Ok(mut slugs) = self.slugs.lock() {
            slugs.insert(object.to_string(), slug.clone());
        }
        Ok(slug)
    }

    /// The id of the list rules call `name`; `None` when the workspace has no such
    /// list. Read once, and again when a name or id is not known.
    pub async fn list_id(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.list_where(|(n, _)| n == name, |(_, id)| id).await
    }

    /// The name of the list with `id`, as rules call it.
    pub async fn list_name(&self, id: &str) -> Result<Option<String>, ApiError> {
        self.list_where(|(_, i)| i == id, |(name, _)| name).await
    }

    async fn list_where(
        &self,
        find: impl Fn(&(String, String)) -> bool,
        take: impl Fn(&(String, String)) -> &String,
    ) -> Result<Option<String>, ApiError> {
        let known = |lists: &Mutex<Vec<(String, String)>>| {
            lists
                .lock()
                .ok()
                .and_then(|l| l.iter().find(|e| find(e)).map(|e| take(e).clone()))
        };
        if let Some(found) = known(&self.lists) {
            return Ok(Some(found));
        }
        let listed = self.get("/v2/lists", "listing the lists").await?;
        let lists: Vec<(String, String)> = listed["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| {
                Some((
                    l["name"].as_str()?.to_string(),
                    l["id"]["list_id"].as_str()?.to_string(),
                ))
            })
            .collect();
        if let Ok(mut kept) = self.lists.lock() {
            *kept = lists;
        }
        Ok(known(&self.lists))
    }

    /// A record's current values, `None` when Attio no longer has it.
    pub async fn record(
        &self,
        object: &str,
        id: &str,
    ) -> Result<Option<Map<String, Json>>, ApiError> {
        match self
            .get(
                &format!("/v2/objects/{object}/records/{id}"),
                "reading the record",
            )
            .await
        {
            Ok(body) => Ok(body["data"]["values"].as_object().cloned()),
            Err(e) if e.message.contains("404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A list entry's values (`entry_values`), `None` when Attio no longer has it.
    pub async fn entry(
        &self,
        list_id: &str,
        entry_id: &str,
    ) -> Result<Option<Map<String, Json>>, ApiError> {
        match self
            .get(
                &format!("/v2/lists/{list_id}/entries/{entry_id}"),
                "reading the list entry",
            )
            .await
        {
            Ok(body) => Ok(body["data"]["entry_values"].as_object().cloned()),
            Err(e) if e.message.contains("404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names of the lists a record has an entry in (of those Attio names).
    pub async fn record_lists(&self, object: &str, id: &str) -> Result<Vec<String>, ApiError> {
        let body = self
            .get(
                &format!("/v2/objects/{object}/records/{id}/entries"),
                "reading the record's list entries",
            )
            .await?;
        let mut names = Vec::new();
        for entry in body["data"].as_array().into_iter().flatten() {
            if let Some(list_id) = entry["list_id"].as_str() {
                if let Some(name) = self.list_name(list_id).await? {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        Ok(names)
    }

    /// A member's email address, cached.
    pub async fn member_email(&self, id: &str) -> Result<Option<String>, ApiError> {
        if let Some(email) = self.members.lock().ok().and_then(|m| m.get(id).cloned()) {
            return Ok(Some(email));
        }
        let body = match self
            .get(&format!("/v2/workspace_members/{id}"), "reading the member")
            .await
        {
            Ok(body) => body,
            Err(e) if e.message.contains("404") => return Ok(None),
            Err(e) => return Err(e),
        };
        let email = body["data"]["email_address"].as_str().map(str::to_string);
        if let (Some(email), Ok(mut members)) = (&email, self.members.lock()) {
            members.insert(id.to_string(), email.clone());
        }
        Ok(email)
    }

    /// Every record of `object` whose attributes equal `equals` (all of them when
    /// empty), as `(id, values)`, page by page.
    pub async fn query(
        &self,
        object: &str,
        equals: &Map<String, Json>,
    ) -> Result<Vec<(String, Map<String, Json>)>, ApiError> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        loop {
            let mut body = json!({ "limit": PAGE, "offset": out.len() });
            if !equals.is_empty() {
                body["filter"] = Json::Object(equals.clone());
            }
            let page = self
                .send(
                    reqwest::Method::POST,
                    &format!("/v2/objects/{object}/records/query"),
                    &body,
                    "querying records",
                )
                .await?;
            let records = page["data"].as_array().cloned().unwrap_or_default();
            let n = records.len();
            for record in records {
                let id = record["id"]["record_id"].as_str().unwrap_or("").to_string();
                let values = record["values"].as_object().cloned().unwrap_or_default();
                if !id.is_empty() {
                    out.push((id, values));
                }
            }
            if n < PAGE {
                return Ok(out);
            }
        }
    }

    /// Writes attribute values of a record (`PATCH`: multi-value attributes are
    /// appended to, others replaced).
    pub async fn write(
        &self,
        object: &str,
        id: &str,
        values: Map<String, Json>,
    ) -> Result<Json, ApiError> {
        let body = json!({ "data": { "values": values } });
        self.send(
            reqwest::Method::PATCH,
            &format!("/v2/objects/{object}/records/{id}"),
            &body,
            "writing the record",
        )
        .await
    }

    /// Creates a record; its id.
    pub async fn create(
        &self,
        object: &str,
        values: Map<String, Json>,
    ) -> Result<String, ApiError> {
        let body = json!({ "data": { "values": values } });
        let answer = self
            .send(
                reqwest::Method::POST,
                &format!("/v2/objects/{object}/records"),
                &body,
                "creating the record",
            )
            .await?;
        Ok(record_id(&answer))
    }

    /// Creates the record, or updates the one whose `by` attribute matches (Attio's
    /// `matching_attribute`); its id.
    pub async fn upsert(
        &self,
        object: &str,
        by: &str,
        values: Map<String, Json>,
    ) -> Result<String, ApiError> {
        let body = json!({ "data": { "values": values } });
        let path = format!("/v2/objects/{object}/records?matching_attribute={by}");
        let answer = self
            .send(reqwest::Method::PUT, &path, &body, "upserting the record")
            .await?;
        Ok(record_id(&answer))
    }

    /// Creates a task linked to a record; its id.
    pub async fn task(&self, task: Json) -> Result<String, ApiError> {
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v2/tasks",
                &json!({ "data": task }),
                "creating the task",
            )
            .await?;
        Ok(answer["data"]["id"]["task_id"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Creates a note on a record; its id.
    pub async fn note(
        &self,
        object: &str,
        record: &str,
        title: &str,
        body: &str,
    ) -> Result<String, ApiError> {
        let note = json!({ "data": {
            "parent_object": object, "parent_record_id": record,
            "title": title, "format": "plaintext", "content": body,
        }});
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v2/notes",
                &note,
                "creating the note",
            )
            .await?;
        Ok(answer["data"]["id"]["note_id"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The notes on a record, or the tasks linked to it (`what` is `notes` or
    /// `tasks`), as Attio lists them: every page, at most 20.
    pub async fn attached(
        &self,
        what: &str,
        object: &str,
        id: &str,
    ) -> Result<Vec<Json>, ApiError> {
        const PAGE: usize = 50;
        let (object_key, record_key) = match what {
            "notes" => ("parent_object", "parent_record_id"),
            _ => ("linked_object", "linked_record_id"),
        };
        let mut out = Vec::new();
        for page in 0..20 {
            let path = format!(
                "/v2/{what}?{object_key}={object}&{record_key}={id}&limit={PAGE}&offset={}",
                page * PAGE
            );
            let answer = self.get(&path, &format!("listing the {what}")).await?;
            let items = answer["data"].as_array().cloned().unwrap_or_default();
            let n = items.len();
            out.extend(items);
            if n < PAGE {
                break;
            }
        }
        Ok(out)
    }

    /// Puts a record in a list (asserting by parent, so twice is once).
    pub async fn list_add(&self, list: &str, object: &str, record: &str) -> Result<Json, ApiError> {
        let entry = json!({ "data": {
            "parent_record_id": record, "parent_object": object, "entry_values": {},
        }});
        self.send(
            reqwest::Method::PUT,
            &format!("/v2/lists/{list}/entries"),
            &entry,
            "adding to the list",
        )
        .await
    }

    /// Takes a record out of a list: every entry it has there (none is fine).
    pub async fn list_remove(&self, list: &str, record: &str) -> Result<Json, ApiError> {
        let query = json!({ "filter": { "parent_record_id": record } });
        let entries = self
            .send(
                reqwest::Method::POST,
                &format!("/v2/lists/{list}/entries/query"),
                &query,
                "finding the list entry",
            )
            .await?;
        for entry in entries["data"].as_array().into_iter().flatten() {
            if let Some(id) = entry["id"]["entry_id"].as_str() {
                let response = self
                    .http
                    .delete(format!("{}/v2/lists/{list}/entries/{id}", self.base))
                    .bearer_auth(self.token.reveal())
                    .send()
                    .await;
                match answer(response, "removing from the list").await {
                    Err(e) if !e.message.contains("404") => return Err(e),
                    _ => {}
                }
            }
        }
        Ok(Json::Null)
    }

    /// Attio's values of a record as an event's `record` for `object`: each attribute
    /// the schema declares, in the schema's type. Attributes the schema does not know
    /// are left out; an attribute with no value is `null`.
    pub async fn to_event_values(
        &self,
        values: &Map<String, Json>,
        object: &Object,
    ) -> Result<Map<String, Json>, ApiError> {
        self.to_values(values, &object.attributes).await
    }

    /// Attio's values as the declared attributes read them: a record's, or a list
    /// entry's (`entry_values`).
    pub async fn to_values(
        &self,
        values: &Map<String, Json>,
        attributes: &[crate::schema::Attribute],
    ) -> Result<Map<String, Json>, ApiError> {
        let mut out = Map::new();
        for attribute in attributes {
            let Some(Json::Array(items)) = values.get(&attribute.name) else {
                continue;
            };
            let (many, element) = match &attribute.ty {
                Type::List(element) => (true, element.as_ref()),
                Type::MultiSelect(_) => (true, &attribute.ty),
                other => (false, other),
            };
            let mut converted = Vec::with_capacity(items.len());
            for item in items {
                // An amount in another currency than declared is not that amount:
                // rules comparing it with their thresholds would be wrong.
                if let (Some(declared), Some(code)) =
                    (&attribute.currency, item["currency_code"].as_str())
                {
                    if declared != code {
                        super::log::warn(
                            "an amount in another currency than declared is read as empty",
                            serde_json::json!({
                                "attribute": attribute.name, "declared": declared, "found": code,
                            }),
                        );
                        continue;
                    }
                }
                if let Some(v) = self.value(item, element).await? {
                    converted.push(v);
                }
            }
            let value = if many {
                Json::Array(converted)
            } else {
                converted.into_iter().next().unwrap_or(Json::Null)
            };
            out.insert(attribute.name.clone(), value);
        }
        Ok(out)
    }

    /// One of Attio's value objects as the schema's type reads it.
    async fn value(&self, item: &Json, ty: &Type) -> Result<Option<Json>, ApiError> {
        let field = |name: &str| item.get(name).filter(|v| !v.is_null()).cloned();
        Ok(match item["attribute_type"].as_str().unwrap_or("") {
            "status" => item["status"]["title"].as_str().map(|t| json!(t)),
            "select" => item["option"]["title"].as_str().map(|t| json!(t)),
            "currency" => field("currency_value"),
            "record-reference" => field("target_record_id"),
            "actor-reference" => match item["referenced_actor_type"].as_str() {
                Some("workspace-member") => match item["referenced_actor_id"].as_str() {
                    Some(id) => self.member_email(id).await?.map(Json::String),
                    None => None,
                },
                _ => None,
            },
            "email-address" => field("email_address"),
            "domain" => field("domain"),
            "phone-number" => field("original_phone_number").or_else(|| field("phone_number")),
            "personal-name" => field("full_name"),
            _ => match ty {
                Type::Json => Some(item.clone()),
                _ => field("value"),
            },
        })
    }
}

/// The record id in Attio's answer to a write.
fn record_id(answer: &Json) -> String {
    answer["data"]["id"]["record_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A value of the schema's type as Attio takes it in a write.
pub fn to_attio(value: &Json, ty: &Type) -> Json {
    match (ty, value) {
        (_, Json::Null) => json!([]),
        (Type::Member, Json::String(email)) => json!([{
            "referenced_actor_type": "workspace-member",
            "workspace_member_email_address": email,
        }]),
        (Type::Email, Json::String(email)) => json!([{ "email_address": email }]),
        (Type::Domain, Json::String(domain)) => json!([{ "domain": domain }]),
        (Type::Phone, Json::String(phone)) => json!([{ "original_phone_number": phone }]),
        (Type::Record(object), Json::String(id)) => json!([{
            "target_object": object,
            "target_record_id": id,
        }]),
        (Type::List(element), Json::Array(items)) => Json::Array(
            items
                .iter()
                .flat_map(|i| match to_attio(i, element) {
                    Json::Array(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        (_, other) => other.clone(),
    }
}
