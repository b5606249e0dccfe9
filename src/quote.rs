//! `puente quote`: the upgrade rule on JSON (SPEC §3.7). Reads one request,
//! checks every field (money within the currency's decimals, cycles in
//! either WHMCS spelling, dates), and prints the quote.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::cycle::Cycle;
use crate::domain::money::{Currency, Money};
use crate::domain::upgrade::{self, Current, Kind, Quote, Target, UpgradePolicy};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    policy: String,
    currency: String,
    current: CurrentInput,
    target: TargetInput,
    on: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CurrentInput {
    price: String,
    cycle: String,
    paid: String,
    period_start: String,
    next_due_date: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetInput {
    price: String,
    cycle: String,
    #[serde(default)]
    price_in_current_cycle: Option<String>,
}

/// The quote for one JSON request, or what is wrong with it.
pub fn run(input: &str) -> Result<Value, String> {
    let request: Request =
        serde_json::from_str(input).map_err(|error| format!("not a quote request: {error}"))?;
    let policy = UpgradePolicy::parse(&request.policy).ok_or_else(|| {
        format!(
            "policy: `{}` is not one of {}",
            request.policy,
            UpgradePolicy::NAMES
        )
    })?;
    let currency =
        Currency::parse(&request.currency).map_err(|error| format!("currency: {error}"))?;
    let money = |field: &str, text: &str| {
        Money::parse(text, currency).map_err(|error| format!("{field}: {error}"))
    };
    let cycle = |field: &str, text: &str| {
        Cycle::parse(text).ok_or_else(|| format!("{field}: `{text}` is not a WHMCS billing cycle"))
    };
    let day = |field: &str, text: &str| {
        text.parse::<jiff::civil::Date>()
            .map_err(|_| format!("{field}: `{text}` is not a date (YYYY-MM-DD)"))
    };
    let current = Current {
        price: money("current.price", &request.current.price)?,
        cycle: cycle("current.cycle", &request.current.cycle)?,
        paid: money("current.paid", &request.current.paid)?,
        period_start: day("current.period_start", &request.current.period_start)?,
        next_due_date: day("current.next_due_date", &request.current.next_due_date)?,
    };
    let target = Target {
        price: money("target.price", &request.target.price)?,
        cycle: cycle("target.cycle", &request.target.cycle)?,
        price_in_current_cycle: request
            .target
            .price_in_current_cycle
            .as_deref()
            .map(|text| money("target.price_in_current_cycle", text))
            .transpose()?,
        tier: None,
    };
    let on = day("on", &request.on)?;
    let quote = upgrade::quote(policy, &current, &target, on).map_err(|error| error.to_string())?;
    Ok(render(policy, &quote, target.price, current.paid))
}

/// A quote as `puente quote` prints it and the client area receives it.
pub fn render(policy: UpgradePolicy, quote: &Quote, target_price: Money, paid: Money) -> Value {
    json!({
        "kind": match quote.kind { Kind::Upgrade => "upgrade", Kind::Downgrade => "downgrade" },
        "charge": quote.charge.to_string(),
        "currency": quote.charge.currency().code(),
        "next_due_date": quote.next_due_date.to_string(),
        "policy": policy.as_str(),
        "breakdown": {
            "target_price": target_price.to_string(),
            "paid": paid.to_string(),
            "credit": quote.credit.to_string(),
            "days_left": quote.days_left,
            "days_in_period": quote.days_in_period,
        },
    })
}
