//! Two sessions wired back to back in memory, with a simulated clock. No sockets.
//!
//! The world carries out every output: `Connect` creates a connection pair at once (or fails
//! when the peer is unreachable), `Send` queues the message for the other end, `Close` delivers
//! `TcpClosed` to the other end after what was already sent, timers become deadlines on the
//! simulated clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::fsm::{ConnectionId, Direction, Input, Output, Session, SessionConfig, State, Timer};
use crate::packet::{Message, Notification};

pub const A: usize = 0;
pub const B: usize = 1;

/// One side: its session and everything it did.
pub struct Node {
    pub session: Session,
    pub timers: BTreeMap<Timer, Instant>,
    /// Every output, with the time it was produced.
    pub outputs: Vec<(Instant, Output)>,
    /// Messages this side sent, with time and connection.
    pub sent: Vec<(Instant, ConnectionId, Message)>,
    /// Drop everything this side sends (the TCP connection stays up).
    pub silenced: bool,
    /// Connections to this side fail.
    pub unreachable: bool,
}

pub struct World {
    pub start: Instant,
    pub now: Instant,
    pub nodes: [Node; 2],
    queue: VecDeque<(usize, Input)>,
    /// connection id → (the other node, the other end's connection id)
    links: HashMap<ConnectionId, (usize, ConnectionId)>,
    /// Which node opened each connection (by the opener's id for it).
    pub opened_by: HashMap<ConnectionId, usize>,
    next_id: u64,
    /// Deliver `Connect` of both sides before any other event (to provoke collisions).
    pub defer_connects: bool,
}

pub fn config(asn: u32, id: [u8; 4], peer_asn: u32) -> SessionConfig {
    SessionConfig::new(asn, Ipv4Addr::from(id), peer_asn)
}

impl World {
    pub fn new(a: SessionConfig, b: SessionConfig) -> Self {
        let start = Instant::now();
        let node = |config| Node {
            session: Session::new(config, start),
            timers: BTreeMap::new(),
            outputs: Vec::new(),
            sent: Vec::new(),
            silenced: false,
            unreachable: false,
        };
        Self {
            start,
            now: start,
            nodes: [node(a), node(b)],
            queue: VecDeque::new(),
            links: HashMap::new(),
            opened_by: HashMap::new(),
            next_id: 1,
            defer_connects: false,
        }
    }

    /// An external eBGP pair: A (AS 65001, 198.18.0.1) active, B (AS 65002, 198.18.0.2) passive.
    pub fn ebgp_pair() -> Self {
        let a = config(65001, [198, 18, 0, 1], 65002);
        let mut b = config(65002, [198, 18, 0, 2], 65001);
        b.passive = true;
        Self::new(a, b)
    }

    pub fn state(&self, node: usize) -> State {
        self.nodes[node].session.state()
    }

    pub fn input(&mut self, node: usize, input: Input) {
        self.queue.push_back((node, input));
        self.run();
    }

    pub fn start_both(&mut self) {
        self.queue.push_back((A, Input::ManualStart));
        self.queue.push_back((B, Input::ManualStart));
        self.run();
    }

    /// Process queued events until none is left (time does not move).
    pub fn run(&mut self) {
        let mut deferred = Vec::new();
        for _ in 0..100_000 {
            let Some((node, input)) = self.queue.pop_front() else {
                if deferred.is_empty() {
                    return;
                }
                for node in deferred.drain(..) {
                    self.connect(node);
                }
                continue;
            };
            let outputs = self.nodes[node].session.handle(self.now, input);
            for output in outputs {
                self.nodes[node].outputs.push((self.now, output.clone()));
                match output {
                    Output::Connect if self.defer_connects => deferred.push(node),
                    Output::Connect => self.connect(node),
                    Output::CancelConnect | Output::ConnectUnanswered => {}
                    Output::Send(id, message) => {
                        self.nodes[node].sent.push((self.now, id, message.clone()));
                        if !self.nodes[node].silenced
                            && let Some(&(other, remote)) = self.links.get(&id)
                        {
                            self.queue.push_back((
                                other,
                                Input::Message {
                                    connection: remote,
                                    message: Box::new(message),
                                },
                            ));
                        }
                    }
                    Output::Close(id) => {
                        if let Some((other, remote)) = self.links.remove(&id) {
                            self.links.remove(&remote);
                            self.queue
                                .push_back((other, Input::TcpClosed { connection: remote }));
                        }
                    }
                    Output::ArmTimer(timer, after) => {
                        self.nodes[node].timers.insert(timer, self.now + after);
                    }
                    Output::StopTimer(timer) => {
                        self.nodes[node].timers.remove(&timer);
                    }
                    _ => {}
                }
            }
        }
        panic!("the sessions did not settle");
    }

    fn connect(&mut self, node: usize) {
        let other = 1 - node;
        if self.nodes[other].unreachable {
            self.queue.push_back((node, Input::ConnectFailed));
            return;
        }
        let ours = ConnectionId(self.next_id);
        let theirs = ConnectionId(self.next_id + 1);
        self.next_id += 2;
        self.links.insert(ours, (other, theirs));
        self.links.insert(theirs, (node, ours));
        self.opened_by.insert(ours, node);
        self.opened_by.insert(theirs, node);
        self.queue.push_back((
            node,
            Input::TcpConnected {
                connection: ours,
                direction: Direction::Outgoing,
            },
        ));
        self.queue.push_back((
            other,
            Input::TcpConnected {
                connection: theirs,
                direction: Direction::Incoming,
            },
        ));
    }

    /// Let simulated time pass, firing timers as they come due.
    pub fn advance(&mut self, duration: Duration) {
        let end = self.now + duration;
        self.run();
        loop {
            let next = self
                .nodes
                .iter()
                .enumerate()
                .flat_map(|(node, n)| n.timers.iter().map(move |(t, at)| (*at, node, *t)))
                .filter(|(at, _, _)| *at <= end)
                .min();
            let Some((at, node, timer)) = next else {
                break;
            };
            self.now = self.now.max(at);
            self.nodes[node].timers.remove(&timer);
            self.queue.push_back((node, Input::TimerExpired(timer)));
            self.run();
        }
        self.now = end;
    }

    /// Connect, exchange OPENs and KEEPALIVEs; both sides end Established.
    pub fn establish(&mut self) {
        self.start_both();
        self.advance(Duration::from_secs(1));
        assert_eq!(self.state(A), State::Established);
        assert_eq!(self.state(B), State::Established);
    }

    /// NOTIFICATIONs `node` sent.
    pub fn notifications_sent(&self, node: usize) -> Vec<Notification> {
        self.nodes[node]
            .sent
            .iter()
            .filter_map(|(_, _, m)| match m {
                Message::Notification(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// Times at which `node` sent a KEEPALIVE, as offsets from the start.
    pub fn keepalive_times(&self, node: usize) -> Vec<Duration> {
        self.nodes[node]
            .sent
            .iter()
            .filter(|(_, _, m)| matches!(m, Message::Keepalive))
            .map(|(at, _, _)| *at - self.start)
            .collect()
    }

    /// Every output `node` produced that matches.
    pub fn outputs(&self, node: usize, wanted: impl Fn(&Output) -> bool) -> Vec<Output> {
        self.nodes[node]
            .outputs
            .iter()
            .map(|(_, o)| o)
            .filter(|o| wanted(o))
            .cloned()
            .collect()
    }
}
