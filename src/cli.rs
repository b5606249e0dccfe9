//! The `puente` command line.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::domain::templates::TemplateCatalog;

use crate::config::{Config, ConfigError};
use crate::dev::{self, DevFiles};
use crate::domain::ids::{EventId, InstanceName};
use crate::signature::{self, HookSecret};
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "puente",
    version,
    about = "Bridge between WHMCS and the paneldecliente.com rules"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve {
        /// Keep a hook secret and an admin token in the data folder when
        /// none is configured (for trying puente out, not for production).
        #[arg(long)]
        dev: bool,
    },
    /// Validate the configuration and print it with secrets hidden.
    CheckConfig,
    /// Sign an event envelope (JSON file or stdin) and POST it to /v1/hooks.
    Send {
        /// The envelope; stdin when absent.
        file: Option<PathBuf>,
        /// Base URL of the service.
        #[arg(long, env = "PUENTE_URL", default_value = "http://127.0.0.1:8080")]
        url: String,
        /// File holding the `whsec_…` secret; without it PUENTE_SECRET is used.
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// Sent as the `puente-instance` header.
        #[arg(long, env = "PUENTE_INSTANCE")]
        instance: Option<String>,
        /// The `webhook-id`; a new `evt_<ULID>` when absent.
        #[arg(long)]
        id: Option<String>,
    },
    /// Price an upgrade: one JSON request on stdin, the quote on stdout
    /// (the pure rule, no network). A downgrade is a quote too.
    Quote,
    /// Copy an install's SQLite file into a PostgreSQL database (events,
    /// messages and their attempts, upgrades, cancellations, transfers and
    /// their audit trail, everything), then check every row arrived.
    /// Running it again changes nothing. Stop the service first.
    MigrateStore {
        /// The SQLite file (`PUENTE_DATABASE`).
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL the replicas will use (`PUENTE_DATABASE_URL`).
        #[arg(long)]
        to: String,
    },
    /// Copy the SQLite database into a new file while the service runs
    /// (SQLite's online backup: the database as of one commit). On
    /// PostgreSQL, use its own tools (pg_dump, base backups).
    Backup {
        /// The new file.
        file: PathBuf,
        /// The database; otherwise `PUENTE_DATABASE` (or `database` in the
        /// `PUENTE_CONFIG` file), as `serve` reads it.
        #[arg(long)]
        database: Option<PathBuf>,
    },
    /// Put a backup back as the database. Refused while the service runs
    /// on it; the service migrates an older backup when it starts.
    Restore {
        /// A file `puente backup` made.
        file: PathBuf,
        /// The database to replace; otherwise as `serve` reads it.
        #[arg(long)]
        database: Option<PathBuf>,
    },
    /// WhatsApp alert templates.
    Templates {
        #[command(subcommand)]
        action: TemplatesAction,
    },
}

#[derive(Debug, Subcommand)]
enum TemplatesAction {
    /// Print every alert template, in every language, as the JSON Meta's
    /// template-creation API takes (one definition per POST), for approval.
    Export {
        /// A templates file to read instead of the shipped one.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Read each instance's templates from its WhatsApp Business Account
    /// (`PUENTE_WHATSAPP_BUSINESS_ACCOUNT_ID`) and say, for every alert and
    /// language, whether its template is there, approved, with the same
    /// parameters. Exits 1 when any is not ready: those alerts are not sent.
    Check,
}

/// A failure and how the process should exit: 2 for bad input or
/// configuration, 1 for everything else.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: 2,
        }
    }

    fn runtime(error: &anyhow::Error) -> Self {
        Self {
            message: format!("{error:#}"),
            code: 1,
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Self::input(error.to_string())
    }
}

impl Cli {
    /// Runs the chosen subcommand and says how the process should exit.
    pub fn run(self) -> ExitCode {
        let result = match self.command {
            Command::Serve { dev } => serve(dev),
            Command::CheckConfig => check_config(),
            Command::Send {
                file,
                url,
                secret_file,
                instance,
                id,
            } => send(file, &url, secret_file, instance, id),
            Command::Templates {
                action: TemplatesAction::Export { file },
            } => export_templates(file),
            Command::Templates {
                action: TemplatesAction::Check,
            } => check_templates(),
            Command::Quote => quote(),
            Command::MigrateStore { from, to } => migrate_store(&from, &to),
            Command::Backup { file, database } => backup(&file, database),
            Command::Restore { file, database } => restore(&file, database),
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                eprintln!("puente: {}", failure.message);
                ExitCode::from(failure.code)
            }
        }
    }
}

fn migrate_store(from: &std::path::Path, to: &str) -> Result<(), Failure> {
    crate::config::DatabaseUrl::parse(to)
        .map_err(|problem| Failure::input(format!("--to {problem}")))?;
    if !from.is_file() {
        return Err(Failure::input(format!(
            "--from {} is not a SQLite file",
            from.display()
        )));
    }
    let copied = crate::store::migrate::copy(from, to).map_err(|error| Failure::runtime(&error))?;
    println!(
        "{:<24} {:>10} {:>10} {:>10}",
        "table", "in SQLite", "copied now", "checked"
    );
    for table in &copied {
        println!(
            "{:<24} {:>10} {:>10} {:>10}",
            table.table, table.source, table.added, table.found
        );
    }
    println!("every row of {} is in PostgreSQL", from.display());
    Ok(())
}

/// The SQLite file `serve` would use, unless `given`; refused when the
/// store is PostgreSQL.
fn sqlite_database(given: Option<PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(path) = given {
        return Ok(path);
    }
    let sources = Config::sources(|var| std::env::var(var).ok())?;
    if sources.get("database_url").is_some() {
        return Err(Failure::input(
            "the store is PostgreSQL (PUENTE_DATABASE_URL): back it up and restore it with \
             PostgreSQL's own tools (pg_dump, pg_restore, base backups)",
        ));
    }
    Ok(sources.get("database").map_or_else(
        || PathBuf::from(crate::config::DEFAULT_DATABASE),
        |value| PathBuf::from(&value.text),
    ))
}

fn backup_failure(error: crate::store::sqlite::backup::Error) -> Failure {
    use crate::store::sqlite::backup::Error;
    match error {
        Error::Refused(refused) => Failure::input(refused.to_string()),
        Error::Failed(error) => Failure::runtime(&error),
    }
}

fn backup(file: &std::path::Path, database: Option<PathBuf>) -> Result<(), Failure> {
    let database = sqlite_database(database)?;
    let contents = crate::store::sqlite::backup::backup(&database, file).map_err(backup_failure)?;
    println!(
        "backed up {} to {}: {} events, {} messages, schema {}, {} bytes",
        database.display(),
        file.display(),
        contents.events,
        contents.messages,
        contents.schema,
        contents.bytes
    );
    Ok(())
}

fn restore(file: &std::path::Path, database: Option<PathBuf>) -> Result<(), Failure> {
    let database = sqlite_database(database)?;
    let contents =
        crate::store::sqlite::backup::restore(file, &database).map_err(backup_failure)?;
    println!(
        "restored {} into {}: {} events, {} messages, schema {}",
        file.display(),
        database.display(),
        contents.events,
        contents.messages,
        contents.schema
    );
    Ok(())
}

fn quote() -> Result<(), Failure> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .map_err(|error| Failure::input(format!("cannot read stdin: {error}")))?;
    let quote = crate::quote::run(&input).map_err(Failure::input)?;
    println!("{quote}");
    Ok(())
}

fn export_templates(file: Option<PathBuf>) -> Result<(), Failure> {
    let catalogue = match file {
        None => TemplateCatalog::defaults(),
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|error| {
                Failure::input(format!("cannot read {}: {error}", path.display()))
            })?;
            TemplateCatalog::from_toml(&text)
                .map_err(|error| Failure::input(format!("{}: {error}", path.display())))?
        }
    };
    let text = serde_json::to_string_pretty(&catalogue.export())
        .map_err(|error| Failure::runtime(&error.into()))?;
    println!("{text}");
    Ok(())
}

fn serve(dev: bool) -> Result<(), Failure> {
    let mut sources = Config::sources(|var| std::env::var(var).ok())?;
    let dev_files = if dev {
        dev::fill(&mut sources).map_err(|error| Failure::runtime(&error))?
    } else {
        DevFiles::default()
    };
    let config = Config::from_sources(&sources)?;
    crate::telemetry::init(&config);
    if dev {
        print_dev_help(&config, &dev_files);
    }
    actix_web::rt::System::new()
        .block_on(run_service(config))
        .map_err(|error| Failure::runtime(&error))
}

async fn run_service(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let database = config.database.clone();
    let application = Application::build(config)?;
    let handle = application.handle();
    tracing::info!(
        address = %format!("{}:{}", listen.ip(), application.port()),
        database = %database.display(),
        "puente listening"
    );
    actix_web::rt::spawn(async move {
        let signal = shutdown_signal().await;
        tracing::info!(signal, "stopping: finishing requests in flight");
        handle.stop(true).await;
    });
    application.run_until_stopped().await?;
    tracing::info!("stopped; every acknowledged event is committed");
    Ok(())
}

/// Waits for SIGTERM or SIGINT and names it.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        _ => {
            tracing::error!("cannot listen for signals; stop puente with SIGKILL");
            std::future::pending().await
        }
    }
}

fn print_dev_help(config: &Config, files: &DevFiles) {
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "puente".to_owned());
    let url = format!("http://{}", config.listen);
    println!(
        "puente --dev: database {}, WhatsApp in {} mode",
        config.database.display(),
        config.default_instance().rules.whatsapp.mode.as_str()
    );
    if let Some(secret) = &files.secret {
        let secret = secret.display();
        println!("  hook secret kept in {secret}");
        println!("  send a signed test event:");
        println!(
            "    {program} send --url {url} --secret-file {secret} fixtures/envelopes/ClientAdd.json"
        );
        println!("  point the WHMCS addon here:");
        println!("    PUENTE_URL={url} PUENTE_SECRET=\"$(cat {secret})\"");
    }
    if let Some(token) = &files.admin_token {
        let token = token.display();
        println!("  admin token kept in {token}; list stored events:");
        println!("    curl -s -H \"Authorization: Bearer $(cat {token})\" {url}/v1/admin/events");
        println!("  or open the dashboard at {url}/admin/ and sign in with that token");
    }
}

fn check_templates() -> Result<(), Failure> {
    let config = Config::from_env()?;
    let accounts =
        crate::workers::templates::accounts(&config).map_err(|error| Failure::runtime(&error))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::runtime(&error.into()))?;
    let mut checked = 0;
    let mut not_ready = 0;
    for name in config.instances.keys() {
        let Some(account) = accounts.get(name) else {
            println!(
                "{name}: not checked (it needs whatsapp_mode `cloud` and \
                 whatsapp_business_account_id)"
            );
            continue;
        };
        let waba_id = &account.waba_id;
        checked += 1;
        match runtime.block_on(account.check()) {
            Err(reason) => {
                not_ready += 1;
                println!("{name}: cannot read the templates of account {waba_id}: {reason}");
            }
            Ok(found) => {
                let problems: Vec<_> = found
                    .iter()
                    .filter_map(|check| check.problem().map(|problem| (check, problem)))
                    .collect();
                println!(
                    "{name}: account {waba_id}: {} of {} templates ready",
                    found.len() - problems.len(),
                    found.len()
                );
                for (check, problem) in &problems {
                    println!(
                        "  {:<24} {:<6} {:<18} {problem}",
                        check.kind.as_str(),
                        check.language,
                        check.verdict.state()
                    );
                }
                not_ready += usize::from(!problems.is_empty());
            }
        }
    }
    if checked == 0 {
        return Err(Failure::input(
            "no instance sends through the Cloud API with a WhatsApp Business Account id \
             (PUENTE_WHATSAPP_MODE=cloud and PUENTE_WHATSAPP_BUSINESS_ACCOUNT_ID)",
        ));
    }
    if not_ready > 0 {
        return Err(Failure {
            message: format!(
                "{not_ready} of {checked} instances have templates that are not ready; \
                 their alerts are not sent until they are"
            ),
            code: 1,
        });
    }
    Ok(())
}

fn check_config() -> Result<(), Failure> {
    let config = Config::from_env()?;
    println!("{config}");
    println!("configuration is valid");
    Ok(())
}

fn send(
    file: Option<PathBuf>,
    url: &str,
    secret_file: Option<PathBuf>,
    instance: Option<String>,
    id: Option<String>,
) -> Result<(), Failure> {
    let secrets = match &secret_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|error| Failure::input(format!("cannot read {}: {error}", path.display())))?,
        None => std::env::var("PUENTE_SECRET")
            .map_err(|_| Failure::input("give --secret-file or set PUENTE_SECRET"))?,
    };
    let secret: HookSecret = secrets
        .split_whitespace()
        .next()
        .ok_or_else(|| Failure::input("the secret is empty"))?
        .parse()
        .map_err(|error| Failure::input(format!("the secret is invalid: {error}")))?;
    let instance = instance
        .map(|name| InstanceName::parse(&name).map_err(Failure::input))
        .transpose()?;
    let id = match id {
        Some(id) => EventId::parse(&id).map_err(Failure::input)?,
        None => EventId::generate(),
    };
    let body = match &file {
        Some(path) => std::fs::read(path)
            .map_err(|error| Failure::input(format!("cannot read {}: {error}", path.display())))?,
        None => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|error| Failure::input(format!("cannot read stdin: {error}")))?;
            body
        }
    };
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = signature::sign(&secret, id.as_str(), timestamp, &body);
    let endpoint = format!("{}/v1/hooks", url.trim_end_matches('/'));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::runtime(&error.into()))?;
    // `Client::new` panics where the TLS roots cannot be loaded (a system
    // without CA certificates); this says so instead.
    let client = reqwest::Client::builder().build().map_err(|error| {
        Failure::runtime(&anyhow::anyhow!("cannot make an HTTP client: {error}"))
    })?;
    let (status, answer) = runtime
        .block_on(async {
            let mut request = client
                .post(&endpoint)
                .header("content-type", "application/json")
                .header(signature::HEADER_ID, id.as_str())
                .header(signature::HEADER_TIMESTAMP, timestamp)
                .header(signature::HEADER_SIGNATURE, signature)
                .body(body);
            if let Some(instance) = &instance {
                request = request.header(crate::http::signed::HEADER_INSTANCE, instance.as_str());
            }
            let response = request.send().await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.text().await?))
        })
        .map_err(|error| Failure::runtime(&anyhow::anyhow!("cannot reach {endpoint}: {error}")))?;
    println!("{} {answer}", status.as_u16());
    if status.is_success() {
        Ok(())
    } else {
        Err(Failure {
            message: format!("the service refused the event ({status})"),
            code: 1,
        })
    }
}
