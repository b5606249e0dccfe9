//! What the other replicas' commits left: `LISTEN puente_work` on a
//! connection of its own, each notification waking this replica's workers
//! for the work it names.
//!
//! While the connection is down nothing is heard, so on every (re)connect
//! every worker is woken once to look for itself; besides, each worker
//! looks at least every minute when nothing wakes it (`workers::IDLE_PASS`).

use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_postgres::AsyncMessage;

use super::connection;
use super::tx::{CHANNEL, parse_payload};
use crate::store::wake::{Signals, Wake, Work};

/// How long to wait before connecting again after the connection failed.
const RECONNECT: Duration = Duration::from_secs(2);

/// Listens until the task is aborted.
pub(super) async fn listen(
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    signals: Signals,
) {
    let mut everything = Wake::default();
    for work in Work::ALL {
        everything.add(work);
    }
    loop {
        match connection::connect(&config, &tls).await {
            Ok((client, mut connection)) => {
                let (heard, mut notifications) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages = futures_util::stream::poll_fn(move |context| {
                        connection.poll_message(context)
                    });
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notification(notification)) => {
                                if heard.send(notification.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(%error, "the notification connection ended");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        signals.wake(everything);
                        while let Some(payload) = notifications.recv().await {
                            signals.wake(parse_payload(&payload));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot listen for other replicas' work"),
                }
                driver.abort();
            }
            Err(error) => {
                tracing::warn!(%error, "cannot connect to listen for other replicas' work")
            }
        }
        tokio::time::sleep(RECONNECT).await;
    }
}
