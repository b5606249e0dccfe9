//! What puente reads from WHMCS API answers, typed once at the edge.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::lenient;

/// `GetClientsDetails` → `client`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientDetails {
    /// The answer repeats it as `client_id` and `userid`; `id` is always there.
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::optional_id")]
    pub owner_user_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub firstname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub lastname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub companyname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub email: String,
    /// As stored, without the country calling code (WHMCS 7.x+ splits it).
    #[serde(default, deserialize_with = "lenient::text")]
    pub phonenumber: String,
    /// Country calling code, digits only (`"234"`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub phonecc: String,
    /// ISO 3166-1 alpha-2; see [`ClientDetails::country_code`].
    #[serde(default, deserialize_with = "lenient::text")]
    pub country: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub countrycode: String,
    /// WHMCS language name (`spanish`); empty means the system default.
    #[serde(default, deserialize_with = "lenient::text")]
    pub language: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub currency_code: String,
    #[serde(default)]
    pub email_preferences: EmailPreferences,
    #[serde(default, deserialize_with = "lenient::list")]
    pub customfields: Vec<CustomFieldValue>,
}

impl ClientDetails {
    /// The country as ISO 3166-1 alpha-2, whichever field carries it.
    pub fn country_code(&self) -> &str {
        if self.countrycode.is_empty() {
            &self.country
        } else {
            &self.countrycode
        }
    }
}

/// The client's email-preference categories (WHMCS 8).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EmailPreferences {
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub general: bool,
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub invoice: bool,
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub support: bool,
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub product: bool,
    #[serde(default = "yes", deserialize_with = "lenient::flag")]
    pub domain: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct CustomFieldValue {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub value: String,
}

/// `GetInvoice`.
#[derive(Debug, Clone, Deserialize)]
pub struct Invoice {
    #[serde(rename = "invoiceid", deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(deserialize_with = "lenient::id")]
    pub userid: u64,
    /// The number shown to clients when sequential numbering is on.
    #[serde(default, deserialize_with = "lenient::text")]
    pub invoicenum: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::date")]
    pub date: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub duedate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub datepaid: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::money")]
    pub subtotal: Decimal,
    #[serde(default, deserialize_with = "lenient::money")]
    pub total: Decimal,
    #[serde(default, deserialize_with = "lenient::money")]
    pub balance: Decimal,
    #[serde(default, deserialize_with = "lenient::list")]
    pub items: Vec<InvoiceItem>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceItem {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    /// `Hosting` (relid = service id), `Upgrade` (relid = tblupgrades id), …
    #[serde(default, rename = "type", deserialize_with = "lenient::text")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient::optional_id")]
    pub relid: Option<u64>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient::money")]
    pub amount: Decimal,
}

/// `GetInvoices` → `invoices.invoice[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceSummary {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::date")]
    pub duedate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub date: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::optional_id")]
    pub userid: Option<u64>,
    /// `Y-m-d H:i:s` in WHMCS's time zone, `0000-00-00 00:00:00` when not
    /// paid (the developer docs' GetInvoices sample).
    #[serde(default, deserialize_with = "lenient::text")]
    pub datepaid: String,
    /// As `datepaid`, for a cancelled invoice.
    #[serde(default, deserialize_with = "lenient::text")]
    pub date_cancelled: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub updated_at: String,
}

/// `GetClientsProducts` → `products.product[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientProduct {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(deserialize_with = "lenient::id")]
    pub clientid: u64,
    #[serde(deserialize_with = "lenient::id")]
    pub pid: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub groupname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub domain: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub billingcycle: String,
    #[serde(default, deserialize_with = "lenient::date")]
    pub regdate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub nextduedate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub suspensionreason: String,
    #[serde(default, deserialize_with = "lenient::money")]
    pub firstpaymentamount: Decimal,
    #[serde(default, deserialize_with = "lenient::money")]
    pub recurringamount: Decimal,
}

/// `GetClientsDomains` → `domains.domain[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientDomain {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(deserialize_with = "lenient::id")]
    pub userid: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub domainname: String,
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: String,
    #[serde(default, deserialize_with = "lenient::date")]
    pub expirydate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::date")]
    pub nextduedate: Option<jiff::civil::Date>,
    #[serde(default, deserialize_with = "lenient::money")]
    pub recurringamount: Decimal,
    /// Auto-renewal is off.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub donotrenew: bool,
}

/// `GetQuotes` → `quotes.quote[]`.
#[derive(Debug, Clone, Deserialize)]
pub struct Quote {
    #[serde(deserialize_with = "lenient::id")]
    pub id: u64,
    #[serde(deserialize_with = "lenient::id")]
    pub userid: u64,
    #[serde(default, deserialize_with = "lenient::text")]
    pub subject: String,
    /// `Draft`, `Delivered`, `On Hold`, `Accepted`, `Lost`, `Dead`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub stage: String,
    #[serde(default, deserialize_with = "lenient::money")]
    pub total: Decimal,
    #[serde(default, deserialize_with = "lenient::date")]
    pub validuntil: Option<jiff::civil::Date>,
}
