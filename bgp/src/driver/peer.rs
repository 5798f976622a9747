//! The task that runs one peer's session: it owns the FSM, the connections (sockets) and the
//! timers, carries out the FSM's outputs, and reports to the core.
//!
//! Inputs: commands from the core ([`PeerCommand`]), frames from connection readers, results
//! of connection attempts, timer deadlines. Outputs: bytes to connection writers and
//! [`PeerEvent`]s to the core.
//!
//! What waits in the established connection's writer is bounded by `max_send_queue` bytes:
//! past it the peer is not reading, and the session is closed with Cease / Out of Resources
//! ([`Input::SendQueueOverflow`]) rather than letting memory grow.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};
use tracing::{debug, info, warn};

use crate::fsm::{
    ConnectionId, Direction, DownReason, Input, Negotiated, Output, Session, SessionConfig, State,
};
use crate::packet::{CodecContext, Message, Notification, RouteRefresh, Update};
use crate::speaker::status::SharedCounters;

use super::connection::{ConnectionTasks, ReadEvent};
use super::socket::{ConnectError, ConnectSpec, connect};
use super::timers::Timers;
use super::ttl::TtlPolicy;

/// What the core tells a session task.
#[derive(Debug)]
pub enum PeerCommand {
    /// The peer connected to our listener.
    Incoming(TcpStream),
    /// Send these UPDATEs if the session is still the one numbered `epoch`; with
    /// `report_written`, report [`PeerEvent::Written`] once they are on the socket (the core
    /// paces whole-table transfers with it).
    Send {
        epoch: u64,
        updates: Vec<Update>,
        report_written: bool,
    },
    /// Send these encoded UPDATEs (`updates` of them, shared with the other members of an
    /// update group) if the session is still the one numbered `epoch`.
    SendEncoded {
        epoch: u64,
        bytes: Vec<bytes::Bytes>,
        updates: u64,
    },
    /// Send ROUTE-REFRESH (RFC 2918 §3) if the session is still the one numbered `epoch`.
    RouteRefresh { epoch: u64, refresh: RouteRefresh },
    /// Stop with NOTIFICATION Cease and this subcode, then end the task.
    Stop { cease_subcode: u8 },
    /// Close the session with this NOTIFICATION and stay Idle until [`PeerCommand::Start`].
    Halt(Notification),
    /// Start again after [`PeerCommand::Halt`].
    Start,
    /// Close every connection without a NOTIFICATION (the peer sees the TCP connection go, so
    /// a graceful restart helper keeps our routes), then end the task.
    Abort,
}

/// What a session task tells the core.
#[derive(Debug)]
pub enum PeerEvent {
    State(State),
    /// The session is up; `epoch` numbers it (UPDATEs for an older epoch are dropped).
    Established {
        epoch: u64,
        negotiated: Box<Negotiated>,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// The session (or an attempt) ended; `detail` says more than `reason` when the session
    /// task knows more (e.g. how many bytes were queued for a peer that stopped reading).
    Down {
        reason: DownReason,
        was_established: bool,
        detail: Option<String>,
    },
    /// An outgoing connection attempt failed.
    ConnectFailed(String),
    Update(Box<Update>),
    RouteRefresh(RouteRefresh),
    /// What was sent with `report_written` has been written to the socket.
    Written {
        epoch: u64,
    },
}

/// A [`PeerEvent`] with its sender.
#[derive(Debug)]
pub struct PeerEventEnvelope {
    pub peer: IpAddr,
    /// The task instance (a re-added peer gets a new one; stale events are ignored).
    pub instance: u64,
    pub event: PeerEvent,
}

/// Everything a session task needs.
#[derive(Debug)]
pub struct PeerTaskConfig {
    pub instance: u64,
    pub session: SessionConfig,
    pub connect: ConnectSpec,
    pub ttl: TtlPolicy,
    pub counters: Arc<SharedCounters>,
    pub core: mpsc::Sender<PeerEventEnvelope>,
    /// Most bytes queued for the established connection before the session is closed with
    /// Cease / Out of Resources (`PeerConfig::max_send_queue`).
    pub max_send_queue: usize,
}

struct Connection {
    tasks: ConnectionTasks,
    context: CodecContext,
    local: SocketAddr,
    remote: SocketAddr,
}

struct PeerTask {
    instance: u64,
    peer: IpAddr,
    session: Session,
    connect_spec: ConnectSpec,
    ttl: TtlPolicy,
    counters: Arc<SharedCounters>,
    core: mpsc::Sender<PeerEventEnvelope>,
    max_send_queue: usize,
    /// Said with the next [`PeerEvent::Down`] of the input being handled.
    down_detail: Option<String>,
    connections: HashMap<ConnectionId, Connection>,
    next_connection: u64,
    timers: Timers,
    attempt: u64,
    connecting: Option<JoinHandle<()>>,
    epoch: u64,
    closing: Vec<JoinHandle<()>>,
    reads: mpsc::Sender<ReadEvent>,
    /// Results of connection attempts; made on the first attempt (a passive peer never
    /// makes one, and a thousand of them should not hold a channel each).
    connects: Option<ConnectResults>,
    /// Events waiting for room in the core's channel. While it is long, the task stops
    /// reading from its connections (backpressure) but keeps its timers and keepalives going.
    outbox: VecDeque<PeerEventEnvelope>,
}

type ConnectResult = (u64, Result<TcpStream, Box<ConnectError>>);
type ConnectResults = (
    mpsc::UnboundedSender<ConnectResult>,
    mpsc::UnboundedReceiver<ConnectResult>,
);

/// The next connection attempt's result (never, before the first attempt).
async fn next_connect(connects: &mut Option<ConnectResults>) -> Option<ConnectResult> {
    match connects {
        Some((_, receiver)) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Stop reading connections while this many events wait for the core.
const OUTBOX_LIMIT: usize = 256;

/// Start the session task; it runs until [`PeerCommand::Stop`] or until `commands` closes.
pub fn spawn(
    config: PeerTaskConfig,
    commands: mpsc::UnboundedReceiver<PeerCommand>,
) -> JoinHandle<()> {
    tokio::spawn(run(config, commands))
}

async fn run(config: PeerTaskConfig, mut commands: mpsc::UnboundedReceiver<PeerCommand>) {
    let (reads, mut read_events) = mpsc::channel(64);
    let peer = config.connect.remote.ip();
    let mut task = PeerTask {
        instance: config.instance,
        peer,
        session: Session::new(config.session, Instant::now().into_std()),
        connect_spec: config.connect,
        ttl: config.ttl,
        counters: config.counters,
        core: config.core,
        max_send_queue: config.max_send_queue,
        down_detail: None,
        connections: HashMap::new(),
        next_connection: 1,
        timers: Timers::default(),
        attempt: 0,
        connecting: None,
        epoch: 0,
        closing: Vec::new(),
        reads,
        connects: None,
        outbox: VecDeque::new(),
    };
    let core = task.core.clone();
    task.handle(Input::ManualStart);
    let mut stop_subcode = Some(crate::fsm::cease::ADMINISTRATIVE_SHUTDOWN);
    loop {
        let next = task.timers.next();
        let backlog = task.outbox.len();
        tokio::select! {
            permit = core.reserve(), if backlog > 0 => match permit {
                Ok(permit) => {
                    if let Some(envelope) = task.outbox.pop_front() {
                        permit.send(envelope);
                    }
                }
                // The core is gone: the speaker has shut down.
                Err(_) => break,
            },
            command = commands.recv() => match command {
                None => break,
                Some(PeerCommand::Stop { cease_subcode }) => {
                    stop_subcode = Some(cease_subcode);
                    break;
                }
                Some(PeerCommand::Abort) => {
                    stop_subcode = None;
                    break;
                }
                Some(PeerCommand::Halt(notification)) => {
                    task.handle(Input::AutomaticStop { notification });
                }
                Some(PeerCommand::Start) => task.handle(Input::ManualStart),
                Some(PeerCommand::Incoming(stream)) => {
                    task.add_connection(stream, Direction::Incoming);
                }
                Some(PeerCommand::Send {
                    epoch,
                    updates,
                    report_written,
                }) => task.send_updates(epoch, updates, report_written),
                Some(PeerCommand::SendEncoded {
                    epoch,
                    bytes,
                    updates,
                }) => task.send_encoded(epoch, bytes, updates),
                Some(PeerCommand::RouteRefresh { epoch, refresh }) => {
                    let established = task.session.established().map(|(id, _)| id);
                    if let Some(id) = established.filter(|_| epoch == task.epoch) {
                        task.send(id, &Message::RouteRefresh(refresh));
                    }
                }
            },
            Some(event) = read_events.recv(), if backlog < OUTBOX_LIMIT => task.on_read(event),
            Some((attempt, result)) = next_connect(&mut task.connects) => {
                task.on_connect(attempt, result);
            }
            () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                for timer in task.timers.take_expired(Instant::now()) {
                    task.handle(Input::TimerExpired(timer));
                }
            }
        }
        task.closing.retain(|handle| !handle.is_finished());
    }
    match stop_subcode {
        Some(cease_subcode) => task.handle(Input::ManualStop { cease_subcode }),
        None => {
            for (_, connection) in task.connections.drain() {
                task.closing.push(connection.tasks.close());
            }
        }
    }
    if let Some(attempt) = task.connecting.take() {
        attempt.abort();
    }
    let closing = std::mem::take(&mut task.closing);
    let outbox = std::mem::take(&mut task.outbox);
    // Give the NOTIFICATIONs a moment to leave, and the core the last events.
    let _ = timeout(Duration::from_secs(2), async {
        for envelope in outbox {
            if core.send(envelope).await.is_err() {
                break;
            }
        }
        for handle in closing {
            let _ = handle.await;
        }
    })
    .await;
}

impl PeerTask {
    /// Queue an event for the core (sent from the main loop as the core takes them).
    fn report(&mut self, event: PeerEvent) {
        self.outbox.push_back(PeerEventEnvelope {
            peer: self.peer,
            instance: self.instance,
            event,
        });
    }

    fn handle(&mut self, input: Input) {
        let outputs = self.session.handle(Instant::now().into_std(), input);
        for output in outputs {
            self.execute(output);
        }
    }

    fn execute(&mut self, output: Output) {
        match output {
            Output::Connect => self.start_connect(),
            Output::ConnectUnanswered => {
                let error = format!(
                    "connect to {}: no answer within {} s (peer down, filtered, or a TCP-MD5 / \
                     GTSM mismatch)",
                    self.connect_spec.remote,
                    self.session.config().connect_retry.as_secs_f64().round()
                );
                debug!(peer = %self.peer, %error, "connect attempt abandoned");
                self.report(PeerEvent::ConnectFailed(error));
            }
            Output::CancelConnect => {
                self.attempt += 1;
                if let Some(attempt) = self.connecting.take() {
                    attempt.abort();
                }
            }
            Output::Send(id, message) => self.send(id, &message),
            Output::Close(id) => {
                if let Some(connection) = self.connections.remove(&id) {
                    debug!(peer = %self.peer, %id, "closing connection");
                    self.closing.push(connection.tasks.close());
                }
            }
            Output::ArmTimer(timer, after) => self.timers.arm(timer, after),
            Output::StopTimer(timer) => self.timers.stop(timer),
            Output::StateChanged { from, to } => {
                info!(peer = %self.peer, %from, %to, "BGP state");
                self.report(PeerEvent::State(to));
            }
            Output::Established {
                connection,
                negotiated,
            } => {
                let Some(conn) = self.connections.get_mut(&connection) else {
                    return;
                };
                conn.context = negotiated.codec_context();
                self.counters.set_send_queue(Some(conn.tasks.queue_gauge()));
                let (local, remote) = (conn.local, conn.remote);
                self.epoch += 1;
                self.report(PeerEvent::Established {
                    epoch: self.epoch,
                    negotiated: Box::new(negotiated),
                    local,
                    remote,
                });
            }
            Output::Down {
                reason,
                was_established,
            } => {
                info!(peer = %self.peer, %reason, was_established, "BGP session down");
                if was_established {
                    self.counters.set_send_queue(None);
                }
                let detail = self.down_detail.take();
                self.report(PeerEvent::Down {
                    reason,
                    was_established,
                    detail,
                });
            }
            Output::Update(update) => self.report(PeerEvent::Update(Box::new(update))),
            Output::RouteRefresh(refresh) => self.report(PeerEvent::RouteRefresh(refresh)),
        }
    }

    fn start_connect(&mut self) {
        self.attempt += 1;
        if let Some(previous) = self.connecting.take() {
            previous.abort();
        }
        let attempt = self.attempt;
        let spec = self.connect_spec.clone();
        let results = self
            .connects
            .get_or_insert_with(|| {
                let (sender, receiver) = mpsc::unbounded_channel();
                (sender, receiver)
            })
            .0
            .clone();
        self.connecting = Some(tokio::spawn(async move {
            let result = connect(&spec).await.map_err(Box::new);
            let _ = results.send((attempt, result));
        }));
    }

    fn on_connect(&mut self, attempt: u64, result: Result<TcpStream, Box<ConnectError>>) {
        if attempt != self.attempt {
            return;
        }
        self.connecting = None;
        match result {
            Ok(stream) => self.add_connection(stream, Direction::Outgoing),
            Err(error) => {
                debug!(peer = %self.peer, %error, "connect failed");
                self.report(PeerEvent::ConnectFailed(error.to_string()));
                self.handle(Input::ConnectFailed);
            }
        }
    }

    fn add_connection(&mut self, stream: TcpStream, direction: Direction) {
        let (Ok(local), Ok(remote)) = (stream.local_addr(), stream.peer_addr()) else {
            return;
        };
        if direction == Direction::Incoming
            && let Err(error) = self.ttl.apply_accepted(&stream, &remote)
        {
            warn!(peer = %self.peer, %remote, %error, "refusing accepted connection");
            return;
        }
        let _ = stream.set_nodelay(true);
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        debug!(peer = %self.peer, %id, %local, %remote, ?direction, "connection up");
        let tasks = ConnectionTasks::spawn(id, stream, self.reads.clone());
        self.connections.insert(
            id,
            Connection {
                tasks,
                context: CodecContext::default(),
                local,
                remote,
            },
        );
        self.handle(Input::TcpConnected {
            connection: id,
            direction,
        });
    }

    fn on_read(&mut self, event: ReadEvent) {
        match event {
            ReadEvent::Frame(id, frame) => {
                let Some(conn) = self.connections.get(&id) else {
                    return;
                };
                match Message::decode(&frame, &conn.context) {
                    Ok(message) => {
                        self.counters.count_received(message.message_type());
                        self.handle(Input::Message {
                            connection: id,
                            message: Box::new(message),
                        });
                    }
                    Err(error) => {
                        warn!(peer = %self.peer, %error, "malformed message");
                        self.handle(Input::DecodeError {
                            connection: id,
                            error,
                        });
                    }
                }
            }
            ReadEvent::Malformed(id, error) => {
                if self.connections.contains_key(&id) {
                    warn!(peer = %self.peer, %error, "malformed message header");
                    self.handle(Input::DecodeError {
                        connection: id,
                        error: *error,
                    });
                }
            }
            ReadEvent::Closed(id) => {
                if self.connections.contains_key(&id) {
                    self.handle(Input::TcpClosed { connection: id });
                }
            }
        }
    }

    fn send(&mut self, id: ConnectionId, message: &Message) {
        let Some(conn) = self.connections.get(&id) else {
            return;
        };
        let mut buffer = BytesMut::new();
        match message.encode(&conn.context, &mut buffer) {
            Ok(_) => {
                self.counters.count_sent(message.message_type());
                conn.tasks.send(buffer.freeze());
            }
            Err(error) => warn!(peer = %self.peer, %error, "cannot encode message"),
        }
    }

    fn send_encoded(&mut self, epoch: u64, bytes: Vec<bytes::Bytes>, updates: u64) {
        if epoch != self.epoch {
            return;
        }
        let Some((id, _)) = self.session.established() else {
            return;
        };
        if let Some(conn) = self.connections.get(&id) {
            self.counters
                .count_sent_many(crate::packet::MessageType::Update, updates);
            for part in bytes {
                conn.tasks.send(part);
            }
            self.check_send_queue(id);
        }
    }

    /// Close the session with NOTIFICATION Cease / Out of Resources (RFC 4486) when more than
    /// `max_send_queue` bytes wait for a peer that does not read; the queue is dropped, the
    /// NOTIFICATION goes out if the peer reads again before the close times out, and the
    /// session restarts like after any error.
    fn check_send_queue(&mut self, id: ConnectionId) {
        let Some(conn) = self.connections.get(&id) else {
            return;
        };
        let queued = conn.tasks.queued();
        if queued <= self.max_send_queue {
            return;
        }
        warn!(
            peer = %self.peer,
            queued,
            limit = self.max_send_queue,
            "send queue over the limit: closing the session (Cease / Out of Resources)"
        );
        conn.tasks.discard_queued();
        self.down_detail = Some(format!("{queued} bytes queued, peer not reading"));
        self.handle(Input::SendQueueOverflow { connection: id });
        self.down_detail = None;
    }

    fn send_updates(&mut self, epoch: u64, updates: Vec<Update>, report_written: bool) {
        if epoch != self.epoch {
            return;
        }
        let Some((id, _)) = self.session.established() else {
            return;
        };
        let Some(conn) = self.connections.get(&id) else {
            return;
        };
        let mut buffer = BytesMut::new();
        for update in updates {
            match Message::Update(update).encode(&conn.context, &mut buffer) {
                Ok(_) => self.counters.count_sent(crate::packet::MessageType::Update),
                Err(error) => warn!(peer = %self.peer, %error, "cannot encode UPDATE"),
            }
        }
        if !buffer.is_empty() {
            conn.tasks.send(buffer.freeze());
        }
        if report_written {
            let written = conn.tasks.written();
            let core = self.core.clone();
            let envelope = PeerEventEnvelope {
                peer: self.peer,
                instance: self.instance,
                event: PeerEvent::Written { epoch },
            };
            tokio::spawn(async move {
                if written.await.is_ok() {
                    let _ = core.send(envelope).await;
                }
            });
        }
        self.check_send_queue(id);
    }
}
