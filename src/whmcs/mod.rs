//! Client of WHMCS's API (`includes/api.php`): form-encoded, authenticated
//! with an API credential pair (and the optional access key), answered in
//! JSON. WHMCS reports business errors as `result: error`, usually with HTTP
//! 200, so the outcome is read from the body; a 403 means the credentials
//! or the IP allow-list are wrong, which no retry fixes. Network failures,
//! timeouts, 408, 429 and every 5xx (whatever its body says) are outages,
//! retried with exponential backoff and never taken as WHMCS's refusal.

pub mod addon;
pub mod facts;
mod lenient;
pub mod open_invoices;
mod types;

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use addon::{AddonClient, AddonError};
pub use types::{
    ClientDetails, ClientDomain, ClientProduct, CustomFieldValue, EmailPreferences, Invoice,
    InvoiceItem, InvoiceSummary, Quote,
};

use crate::config::WhmcsApi;

/// How long one call may take and how often a transient failure is retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Bound on each try, connection included.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WhmcsError {
    /// WHMCS answered `result: error` (`Client Not Found`, …).
    #[error("WHMCS refused {action}: {message}")]
    Rejected { action: String, message: String },
    /// HTTP 403: wrong API credentials, access key or IP allow-list.
    #[error(
        "WHMCS refused puente's API credentials for {action} ({message}); check the identifier, \
         secret and access key, and that this host's IP is allowed"
    )]
    Forbidden { action: String, message: String },
    /// No usable answer after every try (network, timeout, 5xx, 429).
    #[error("WHMCS is unavailable for {action}: {detail}")]
    Unavailable { action: String, detail: String },
    /// An answer that is not a WHMCS API answer, or lacks what puente reads.
    #[error("WHMCS gave an unreadable answer to {action}: {detail}")]
    InvalidResponse { action: String, detail: String },
}

/// One WHMCS installation's API.
#[derive(Clone)]
pub struct WhmcsClient {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    identifier: String,
    secret: SecretString,
    accesskey: Option<SecretString>,
    retry: RetryPolicy,
    /// Where each try's outcome is recorded for the dashboard.
    health: Option<crate::metrics::LinkHealth>,
}

impl std::fmt::Debug for WhmcsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhmcsClient")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// What one try gave: an answer, or a failure worth another try.
enum Try {
    Done(Result<Map<String, Value>, WhmcsError>),
    Again(String),
}

impl WhmcsClient {
    pub fn new(api: &WhmcsApi, retry: RetryPolicy) -> anyhow::Result<Self> {
        // WHMCS may live in a folder (https://host/billing): keep it.
        let mut base = api.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let endpoint = base
            .join("includes/api.php")
            .map_err(|error| anyhow::anyhow!("the WHMCS URL cannot take a path: {error}"))?;
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .connect_timeout(retry.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            endpoint,
            identifier: api.identifier.clone(),
            secret: api.secret.clone(),
            accesskey: api.accesskey.clone(),
            retry,
            health: None,
        })
    }

    /// Records every try's outcome in `health`.
    pub fn with_health(mut self, health: crate::metrics::LinkHealth) -> Self {
        self.health = Some(health);
        self
    }

    /// Runs an API action; returns the answer's fields on `result: success`.
    pub async fn call(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Map<String, Value>, WhmcsError> {
        self.call_tries(action, params, self.retry.attempts).await
    }

    /// Runs an action whose repetition is not harmless once: a lost answer
    /// is reported as unavailable, and the caller checks WHMCS before it
    /// asks again.
    async fn call_once(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<Map<String, Value>, WhmcsError> {
        self.call_tries(action, params, 1).await
    }

    async fn call_tries(
        &self,
        action: &str,
        params: &[(&str, String)],
        attempts: u32,
    ) -> Result<Map<String, Value>, WhmcsError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("identifier", &self.identifier),
            ("secret", self.secret.expose_secret()),
            ("action", action),
            ("responsetype", "json"),
        ];
        if let Some(accesskey) = &self.accesskey {
            form.push(("accesskey", accesskey.expose_secret()));
        }
        form.extend(params.iter().map(|(key, value)| (*key, value.as_str())));

        let mut delay = self.retry.first_delay;
        let mut last_failure = String::new();
        for attempt in 1..=attempts.max(1) {
            let outcome = self.try_once(action, &form).await;
            if let Some(health) = &self.health {
                // An API error (`result: error`) is WHMCS answering.
                health.record(match &outcome {
                    Try::Done(Err(WhmcsError::Unavailable { detail, .. }))
                    | Try::Done(Err(WhmcsError::InvalidResponse { detail, .. })) => {
                        Err(format!("{action}: {detail}"))
                    }
                    Try::Done(_) => Ok(()),
                    Try::Again(failure) => Err(format!("{action}: {failure}")),
                });
            }
            match outcome {
                Try::Done(outcome) => return outcome,
                Try::Again(failure) => last_failure = failure,
            }
            if attempt < attempts {
                tracing::debug!(action, attempt, failure = %last_failure, "retrying a WHMCS call");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(self.retry.max_delay);
            }
        }
        Err(WhmcsError::Unavailable {
            action: action.to_owned(),
            detail: last_failure,
        })
    }

    async fn try_once(&self, action: &str, form: &[(&str, &str)]) -> Try {
        let response = match self
            .http
            .post(self.endpoint.clone())
            .form(form)
            .send()
            .await
        {
            Ok(response) => response,
            // reqwest's error text names the URL, never the form body.
            Err(error) => return Try::Again(error.without_url().to_string()),
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Try::Again(error.without_url().to_string()),
        };
        classify(action, status, &body)
    }

    /// Runs an action and reads its answer as `T`.
    async fn read<T: DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, String)],
    ) -> Result<T, WhmcsError> {
        let answer = self.call(action, params).await?;
        serde_json::from_value(Value::Object(answer)).map_err(|error| WhmcsError::InvalidResponse {
            action: action.to_owned(),
            detail: error.to_string(),
        })
    }

    /// `GetClientsDetails`: the client's contact details and preferences.
    /// No `stats`: WHMCS reads any non-empty value as true, and the
    /// statistics cost WHMCS queries puente does not need.
    pub async fn client_details(&self, client_id: u64) -> Result<ClientDetails, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            client: ClientDetails,
        }
        let params = [("clientid", client_id.to_string())];
        Ok(self
            .read::<Answer>("GetClientsDetails", &params)
            .await?
            .client)
    }

    /// `GetInvoice`.
    pub async fn invoice(&self, invoice_id: u64) -> Result<Invoice, WhmcsError> {
        self.read("GetInvoice", &[("invoiceid", invoice_id.to_string())])
            .await
    }

    /// `GetClientsProducts` for one service of a client; `None` when the
    /// client has no such service. Always by id: a client-wide listing
    /// stops at WHMCS's default page of 25.
    pub async fn client_product(
        &self,
        client_id: u64,
        service_id: u64,
    ) -> Result<Option<ClientProduct>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            products: Vec<ClientProduct>,
        }
        let params = [
            ("clientid", client_id.to_string()),
            ("serviceid", service_id.to_string()),
        ];
        let answer: Answer = self.read("GetClientsProducts", &params).await?;
        Ok(answer
            .products
            .into_iter()
            .find(|product| product.id == service_id))
    }

    /// `GetClientsProducts` for one service, whoever owns it (its
    /// `clientid` says who); `None` when WHMCS has no such service.
    pub async fn product(&self, service_id: u64) -> Result<Option<ClientProduct>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            products: Vec<ClientProduct>,
        }
        let params = [("serviceid", service_id.to_string())];
        let answer: Answer = self.read("GetClientsProducts", &params).await?;
        Ok(answer
            .products
            .into_iter()
            .find(|product| product.id == service_id))
    }

    /// `GetClientsDomains` for one domain, whoever owns it (its `userid`
    /// says who); `None` when WHMCS has no such domain.
    pub async fn domain(&self, domain_id: u64) -> Result<Option<ClientDomain>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            domains: Vec<ClientDomain>,
        }
        let params = [("domainid", domain_id.to_string())];
        let answer: Answer = self.read("GetClientsDomains", &params).await?;
        Ok(answer
            .domains
            .into_iter()
            .find(|domain| domain.id == domain_id))
    }

    /// `GetClientsDomains` for one domain of a client; `None` when the
    /// client has no such domain.
    pub async fn client_domain(
        &self,
        client_id: u64,
        domain_id: u64,
    ) -> Result<Option<ClientDomain>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            domains: Vec<ClientDomain>,
        }
        let params = [
            ("clientid", client_id.to_string()),
            ("domainid", domain_id.to_string()),
        ];
        let answer: Answer = self.read("GetClientsDomains", &params).await?;
        Ok(answer
            .domains
            .into_iter()
            .find(|domain| domain.id == domain_id))
    }

    /// `GetQuotes` for one quote; `None` when WHMCS has no such quote.
    pub async fn quote(&self, quote_id: u64) -> Result<Option<Quote>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            quotes: Vec<Quote>,
        }
        let answer: Answer = self
            .read("GetQuotes", &[("quoteid", quote_id.to_string())])
            .await?;
        Ok(answer.quotes.into_iter().find(|quote| quote.id == quote_id))
    }
}

/// A ticket WHMCS opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedTicket {
    pub id: u64,
    /// The number the client sees (`tid`).
    pub number: String,
}

/// What `OpenTicket` needs.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub department_id: u64,
    pub client_id: u64,
    /// The service it is about, if any.
    pub service_id: Option<u64>,
    pub subject: &'a str,
    pub message: &'a str,
}

impl WhmcsClient {
    /// `UpdateClientProduct` with the given fields; absolute values, so a
    /// repeated call changes nothing more.
    pub async fn update_client_product(
        &self,
        service_id: u64,
        fields: &[(&str, String)],
    ) -> Result<(), WhmcsError> {
        let mut params = vec![("serviceid", service_id.to_string())];
        params.extend(fields.iter().map(|(key, value)| (*key, value.clone())));
        self.call("UpdateClientProduct", &params).await.map(drop)
    }

    /// `OpenTicket` on behalf of the client, about one service.
    pub async fn open_ticket(&self, ticket: &NewTicket<'_>) -> Result<OpenedTicket, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(deserialize_with = "lenient::id")]
            id: u64,
            #[serde(default, deserialize_with = "lenient::text")]
            tid: String,
        }
        let mut params = vec![
            ("deptid", ticket.department_id.to_string()),
            ("clientid", ticket.client_id.to_string()),
            ("subject", ticket.subject.to_owned()),
            ("message", ticket.message.to_owned()),
            ("priority", "Medium".to_owned()),
        ];
        if let Some(service) = ticket.service_id {
            params.push(("serviceid", service.to_string()));
        }
        let answer: Answer = self.read("OpenTicket", &params).await?;
        Ok(OpenedTicket {
            id: answer.id,
            number: answer.tid,
        })
    }

    /// `AddTicketReply` from the client to ticket `ticket_id`.
    pub async fn add_ticket_reply(
        &self,
        ticket_id: u64,
        client_id: u64,
        message: &str,
    ) -> Result<(), WhmcsError> {
        let params = [
            ("ticketid", ticket_id.to_string()),
            ("clientid", client_id.to_string()),
            ("message", message.to_owned()),
        ];
        self.call("AddTicketReply", &params).await.map(drop)
    }

    /// `UpdateClient` of the given client custom fields only (id, value):
    /// absolute values, so a repeated call changes nothing more. Required
    /// fields are not checked (`skipvalidation`): a client whose profile
    /// misses one must still be able to stop alerts.
    pub async fn set_client_custom_fields(
        &self,
        client_id: u64,
        fields: &[(u64, &str)],
    ) -> Result<(), WhmcsError> {
        let params = [
            ("clientid", client_id.to_string()),
            ("customfields", custom_fields_param(fields)),
            ("skipvalidation", "true".to_owned()),
        ];
        self.call("UpdateClient", &params).await.map(drop)
    }

    /// `LogActivity`: a line in the client's WHMCS log (Clients > Log), for
    /// staff. Asked once: a line repeated after a lost answer would only be
    /// noise, and a missing one loses nothing puente keeps itself.
    pub async fn log_activity(&self, client_id: u64, description: &str) -> Result<(), WhmcsError> {
        let params = [
            ("clientid", client_id.to_string()),
            ("description", description.to_owned()),
        ];
        self.call_once("LogActivity", &params).await.map(drop)
    }

    /// `GetTicket`: the ticket's status (`Open`, `Answered`, `Closed`, or a
    /// custom one).
    pub async fn ticket_status(&self, ticket_id: u64) -> Result<String, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::text")]
            status: String,
        }
        let answer: Answer = self
            .read("GetTicket", &[("ticketid", ticket_id.to_string())])
            .await?;
        Ok(answer.status)
    }
}

/// The `customfields` parameter of WHMCS's API: a PHP-serialized array
/// keyed by custom field id, base64-encoded (the developer docs'
/// `base64_encode(serialize(array("1"=>"Yahoo")))`). PHP's string length
/// is in bytes.
pub fn custom_fields_param(fields: &[(u64, &str)]) -> String {
    use base64::Engine as _;
    let mut serialized = format!("a:{}:{{", fields.len());
    for (id, value) in fields {
        serialized.push_str(&format!("i:{id};s:{}:\"{value}\";", value.len()));
    }
    serialized.push('}');
    base64::engine::general_purpose::STANDARD.encode(serialized)
}

/// What `AddCancelRequest` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelRequest {
    Added,
    /// WHMCS had a request for the service already ("Existing Cancellation
    /// Request Exists"): the same outcome, asked twice.
    AlreadyExisted,
}

/// What `ModuleTerminate` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    Terminated,
    /// The service has no provisioning module ("Service not assigned to a
    /// module"): only its status can be changed.
    NoModule,
}

impl WhmcsClient {
    /// `GetInvoices` of a client with one status, newest due date first, at
    /// most `limit` (WHMCS's default page is 25); and whether WHMCS has
    /// more than it listed (its `totalresults`).
    pub async fn client_invoices(
        &self,
        client_id: u64,
        status: &str,
        limit: u32,
    ) -> Result<(Vec<InvoiceSummary>, bool), WhmcsError> {
        self.invoices_page(&[
            ("userid", client_id.to_string()),
            ("status", status.to_owned()),
            ("limitnum", limit.to_string()),
            ("orderby", "duedate".to_owned()),
            ("order", "desc".to_owned()),
        ])
        .await
    }

    /// One page of `GetInvoices` of every client with one status, newest
    /// invoice date first (`orderby=date`, documented since 7.7): `limit`
    /// from `start`; and whether WHMCS has more after it.
    pub async fn invoices_by_date(
        &self,
        status: &str,
        start: u64,
        limit: u32,
    ) -> Result<(Vec<InvoiceSummary>, bool), WhmcsError> {
        self.invoices_page(&[
            ("status", status.to_owned()),
            ("limitstart", start.to_string()),
            ("limitnum", limit.to_string()),
            ("orderby", "date".to_owned()),
            ("order", "desc".to_owned()),
        ])
        .await
    }

    /// One page of `GetInvoices`, and whether WHMCS has more after it (its
    /// `totalresults` beyond `limitstart` and what it listed).
    async fn invoices_page(
        &self,
        params: &[(&str, String)],
    ) -> Result<(Vec<InvoiceSummary>, bool), WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            invoices: Vec<InvoiceSummary>,
            #[serde(default, deserialize_with = "lenient::optional_id")]
            totalresults: Option<u64>,
        }
        let start = params
            .iter()
            .find(|(key, _)| *key == "limitstart")
            .and_then(|(_, value)| value.parse::<u64>().ok())
            .unwrap_or(0);
        let answer: Answer = self.read("GetInvoices", params).await?;
        let listed = u64::try_from(answer.invoices.len()).unwrap_or(u64::MAX);
        let more = answer
            .totalresults
            .is_some_and(|total| total > start.saturating_add(listed));
        Ok((answer.invoices, more))
    }

    /// `AddCancelRequest` for a service, with its type (`Immediate` or `End
    /// of Billing Period`, always sent: WHMCS documents no default).
    pub async fn add_cancel_request(
        &self,
        service_id: u64,
        kind: &str,
        reason: &str,
    ) -> Result<CancelRequest, WhmcsError> {
        let params = [
            ("serviceid", service_id.to_string()),
            ("type", kind.to_owned()),
            ("reason", reason.to_owned()),
        ];
        match self.call("AddCancelRequest", &params).await {
            Ok(_) => Ok(CancelRequest::Added),
            Err(WhmcsError::Rejected { message, .. })
                if message
                    .to_ascii_lowercase()
                    .contains("existing cancellation request") =>
            {
                Ok(CancelRequest::AlreadyExisted)
            }
            Err(error) => Err(error),
        }
    }

    /// `UpdateClientDomain` with `donotrenew`: the domain stops renewing.
    pub async fn disable_domain_renewal(&self, domain_id: u64) -> Result<(), WhmcsError> {
        let params = [
            ("domainid", domain_id.to_string()),
            ("donotrenew", "1".to_owned()),
        ];
        self.call("UpdateClientDomain", &params).await.map(drop)
    }

    /// `ModuleTerminate`: the provisioning module removes the account. Tried
    /// once: after a lost answer the caller reads the service's status
    /// before asking again.
    pub async fn module_terminate(&self, service_id: u64) -> Result<Termination, WhmcsError> {
        match self
            .call_once("ModuleTerminate", &[("serviceid", service_id.to_string())])
            .await
        {
            Ok(_) => Ok(Termination::Terminated),
            Err(WhmcsError::Rejected { message, .. })
                if message
                    .to_ascii_lowercase()
                    .contains("not assigned to a module") =>
            {
                Ok(Termination::NoModule)
            }
            Err(error) => Err(error),
        }
    }
}

/// A client as `GetClients` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientSummary {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub firstname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub lastname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub companyname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub email: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
}

impl WhmcsClient {
    /// The clients whose email is exactly `email` (case aside): `GetClients`
    /// searches by prefix over names, company and email, so its answer is
    /// filtered here.
    pub async fn clients_by_email(&self, email: &str) -> Result<Vec<ClientSummary>, WhmcsError> {
        let wanted = email.trim();
        Ok(self
            .clients_matching(wanted, 100)
            .await?
            .into_iter()
            .filter(|client| client.email.trim().eq_ignore_ascii_case(wanted))
            .collect())
    }

    /// `GetClients` with `search`: the clients whose name, company or email
    /// starts with `search`, at most `limit`.
    pub async fn clients_matching(
        &self,
        search: &str,
        limit: u32,
    ) -> Result<Vec<ClientSummary>, WhmcsError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            clients: Vec<ClientSummary>,
        }
        let params = [
            ("search", search.trim().to_owned()),
            ("limitnum", limit.to_string()),
        ];
        let answer: Answer = self.read("GetClients", &params).await?;
        Ok(answer.clients)
    }

    /// The ids of a service's addons (`GetClientsAddons`).
    pub async fn service_addons(&self, service_id: u64) -> Result<Vec<u64>, WhmcsError> {
        #[derive(Deserialize)]
        struct Addon {
            #[serde(deserialize_with = "lenient::id")]
            id: u64,
            #[serde(default, deserialize_with = "lenient::optional_id")]
            serviceid: Option<u64>,
        }
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default, deserialize_with = "lenient::list")]
            addons: Vec<Addon>,
        }
        let answer: Answer = self
            .read("GetClientsAddons", &[("serviceid", service_id.to_string())])
            .await?;
        Ok(answer
            .addons
            .into_iter()
            .filter(|addon| addon.serviceid.is_none_or(|id| id == service_id))
            .map(|addon| addon.id)
            .collect())
    }
}

/// What one WHMCS answer means: its fields on success, WHMCS's refusal,
/// or whether trying again may help. Pure, so any body can be thrown at it.
fn classify(action: &str, status: reqwest::StatusCode, body: &[u8]) -> Try {
    let answer: Option<Map<String, Value>> = serde_json::from_slice(body).ok();

    let result = answer
        .as_ref()
        .and_then(|fields| fields.get("result"))
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let message = || {
        answer
            .as_ref()
            .and_then(|fields| fields.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| snippet(body))
    };
    // A 5xx, 429 or 408 is an outage, whatever its body says: a proxy's or
    // PHP's error page, or WHMCS failing half-way with `result: error`
    // (a database that went away). Taking it as WHMCS's answer would turn
    // "try again later" into a refusal for good.
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        let detail = match result.as_deref() {
            Some(_) => format!("HTTP {status}: {}", message()),
            None => format!("HTTP {status}"),
        };
        return Try::Again(detail);
    }
    if status == reqwest::StatusCode::FORBIDDEN {
        return Try::Done(Err(WhmcsError::Forbidden {
            action: action.to_owned(),
            message: message(),
        }));
    }
    match result.as_deref() {
        Some("success") => Try::Done(Ok(answer.unwrap_or_default())),
        Some("error") => Try::Done(Err(WhmcsError::Rejected {
            action: action.to_owned(),
            message: message(),
        })),
        _ => Try::Done(Err(WhmcsError::InvalidResponse {
            action: action.to_owned(),
            detail: format!("HTTP {status}: {}", snippet(body)),
        })),
    }
}

/// One API client per instance that has WHMCS API settings.
pub fn clients(
    config: &crate::config::Config,
    metrics: &std::sync::Arc<crate::metrics::Metrics>,
) -> anyhow::Result<std::collections::BTreeMap<crate::domain::ids::InstanceName, WhmcsClient>> {
    let mut clients = std::collections::BTreeMap::new();
    for (name, instance) in &config.instances {
        if let Some(api) = &instance.whmcs {
            let client = WhmcsClient::new(api, RetryPolicy::default()).map_err(|error| {
                anyhow::anyhow!("cannot set up the WHMCS API client of instance {name}: {error}")
            })?;
            let health =
                crate::metrics::LinkHealth::new(metrics, name, crate::metrics::Link::Whmcs);
            clients.insert(name.clone(), client.with_health(health));
        }
    }
    Ok(clients)
}

/// Reads any body as WHMCS's answer and as each record puente reads from
/// one; for the fuzz targets and their corpus replay: it must never panic.
pub fn read_any_answer(body: &[u8]) {
    let status = reqwest::StatusCode::OK;
    if let Try::Done(Ok(answer)) = classify("Fuzz", status, body) {
        let answer = Value::Object(answer);
        let _ = serde_json::from_value::<ClientDetails>(answer.clone());
        let _ = serde_json::from_value::<Invoice>(answer.clone());
        let _ = serde_json::from_value::<ClientProduct>(answer.clone());
        let _ = serde_json::from_value::<ClientDomain>(answer.clone());
        let _ = serde_json::from_value::<Quote>(answer);
    }
    let _ = classify("Fuzz", reqwest::StatusCode::INTERNAL_SERVER_ERROR, body);
}

/// The start of a body for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    fn decoded(param: &str) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(param)
            .expect("base64");
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn custom_fields_are_a_php_serialized_array_by_field_id_with_byte_lengths() {
        assert_eq!(
            decoded(&super::custom_fields_param(&[(9, "all")])),
            r#"a:1:{i:9;s:3:"all";}"#
        );
        assert_eq!(
            decoded(&super::custom_fields_param(&[(9, ""), (7, "sí")])),
            r#"a:2:{i:9;s:0:"";i:7;s:3:"sí";}"#
        );
    }
}
