//! Hands the writer's answers back to the HTTP workers with one wake-up per
//! worker per group commit, instead of one per request.
//!
//! Waking a task from a plain thread costs a system call on the task's
//! runtime (an eventfd write) every time. Each runtime thread that asks for
//! answers gets an inbox task; the writer sends that inbox one message per
//! commit, and the inbox completes the waiting requests with local wakes.
//!
//! The stored events go back with their answers and are freed by the inbox,
//! on the thread that allocated them: a free on the allocating thread is
//! the allocator's fast path, a free from the writer a cross-thread one.

use std::cell::RefCell;

use tokio::sync::{mpsc, oneshot};

use crate::store::model::{Inserted, NewEvent, StoreError};

/// The outcome of one insert.
pub(super) type Answer = Result<Inserted, StoreError>;

/// What one insert leaves: its answer, and the event to free where it was
/// made.
pub(super) type Delivery = (Reply, Answer, Box<NewEvent>);

type Parcel = Vec<(oneshot::Sender<Answer>, Answer, Box<NewEvent>)>;
type Inbox = mpsc::UnboundedSender<Parcel>;

/// Where one answer goes.
pub(super) struct Reply {
    sender: oneshot::Sender<Answer>,
    inbox: Option<Inbox>,
}

impl Reply {
    /// A reply slot routed through the calling thread's inbox, when the
    /// thread runs a Tokio runtime.
    pub(super) fn new() -> (Self, oneshot::Receiver<Answer>) {
        let (sender, receiver) = oneshot::channel();
        let reply = Self {
            sender,
            inbox: current_inbox(),
        };
        (reply, receiver)
    }
}

/// Delivers a commit's answers: one message per inbox, direct sends for
/// the rest, and direct sends too if an inbox's runtime has gone.
pub(super) fn deliver(deliveries: Vec<Delivery>) {
    let mut parcels: Vec<(Inbox, Parcel)> = Vec::new();
    for (reply, answer, event) in deliveries {
        let Some(inbox) = reply.inbox else {
            let _ = reply.sender.send(answer);
            continue;
        };
        let item = (reply.sender, answer, event);
        match parcels
            .iter_mut()
            .find(|(known, _)| known.same_channel(&inbox))
        {
            Some((_, parcel)) => parcel.push(item),
            None => parcels.push((inbox, vec![item])),
        }
    }
    for (inbox, parcel) in parcels {
        if let Err(mpsc::error::SendError(parcel)) = inbox.send(parcel) {
            for (sender, answer, _) in parcel {
                let _ = sender.send(answer);
            }
        }
    }
}

thread_local! {
    static INBOX: RefCell<Option<Inbox>> = const { RefCell::new(None) };
}

/// This thread's inbox, started on first use; `None` outside a runtime.
fn current_inbox() -> Option<Inbox> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    INBOX.with(|cell| {
        let mut inbox = cell.borrow_mut();
        if inbox.as_ref().is_none_or(|known| known.is_closed()) {
            let (sender, mut parcels) = mpsc::unbounded_channel::<Parcel>();
            // On a current-thread runtime (each actix worker has one) the
            // task runs on this very thread, so its sends wake locally.
            runtime.spawn(async move {
                while let Some(parcel) = parcels.recv().await {
                    for (sender, answer, event) in parcel {
                        let _ = sender.send(answer);
                        drop(event);
                    }
                }
            });
            *inbox = Some(sender);
        }
        inbox.clone()
    })
}
