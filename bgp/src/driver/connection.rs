//! The two halves of one TCP connection: a reader task that cuts the byte stream into BGP
//! messages with [`crate::packet::frame_len`], and a writer task that writes encoded messages.
//!
//! Frames are decoded by the session task, which knows the codec context negotiated so far.
//!
//! The writer's queue is unbounded; [`ConnectionTasks::queued`] counts the bytes in it that are
//! not yet written to the socket, so the session task can give up on a peer that does not read
//! (see `PeerConfig::max_send_queue`) instead of letting memory grow.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::fsm::ConnectionId;
use crate::packet::{DecodeError, frame_len};

/// How long a closing connection may take to write what is queued.
pub const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a reader task reports to its session task.
#[derive(Debug)]
pub enum ReadEvent {
    /// One whole message, header included.
    Frame(ConnectionId, Bytes),
    /// The header was bad (RFC 4271 §6.1); nothing more is read. (Boxed: the channel's
    /// slots are as large as the largest event, and every session has one.)
    Malformed(ConnectionId, Box<DecodeError>),
    /// The connection closed or broke.
    Closed(ConnectionId),
}

/// What the writer task does.
#[derive(Debug)]
pub enum WriteCommand {
    Data(Bytes),
    /// Say so once everything queued before has been written to the socket.
    Notify(tokio::sync::oneshot::Sender<()>),
    /// Write what is queued, then shut the connection down.
    Close,
    /// Ends what [`ConnectionTasks::discard_queued`] started: data queued after this is
    /// written again.
    EndDiscard,
}

/// What the session task and the writer task share about the queue between them.
#[derive(Debug, Default)]
struct Queue {
    /// Bytes queued and not yet written to the socket.
    bytes: Arc<AtomicUsize>,
    /// Drop queued data instead of writing it, up to the next [`WriteCommand::EndDiscard`].
    discarding: AtomicBool,
}

impl Queue {
    fn written(&self, len: usize) {
        self.bytes.fetch_sub(len, Ordering::Relaxed);
    }
}

/// A running connection.
#[derive(Debug)]
pub struct ConnectionTasks {
    pub writer: mpsc::UnboundedSender<WriteCommand>,
    queue: Arc<Queue>,
    reader: JoinHandle<()>,
    writer_task: JoinHandle<()>,
}

impl ConnectionTasks {
    /// Start reading and writing `stream`; frames go to `events`.
    pub fn spawn(id: ConnectionId, stream: TcpStream, events: mpsc::Sender<ReadEvent>) -> Self {
        let (read, write) = stream.into_split();
        let (writer, commands) = mpsc::unbounded_channel();
        let queue = Arc::new(Queue::default());
        let reader = tokio::spawn(read_frames(id, read, events));
        let writer_task = tokio::spawn(write_frames(write, commands, queue.clone()));
        Self {
            writer,
            queue,
            reader,
            writer_task,
        }
    }

    /// Queue bytes for writing; returns the bytes now queued and not yet written.
    pub fn send(&self, bytes: Bytes) -> usize {
        let len = bytes.len();
        let queued = self.queue.bytes.fetch_add(len, Ordering::Relaxed) + len;
        if self.writer.send(WriteCommand::Data(bytes)).is_err() {
            // The writer is gone (the connection broke); nothing will be written.
            self.queue.written(len);
        }
        queued
    }

    /// Bytes queued and not yet written to the socket.
    pub fn queued(&self) -> usize {
        self.queue.bytes.load(Ordering::Relaxed)
    }

    /// The count behind [`ConnectionTasks::queued`], to read from elsewhere (peer status).
    pub fn queue_gauge(&self) -> Arc<AtomicUsize> {
        self.queue.bytes.clone()
    }

    /// Drop everything queued so far that the writer has not started to write (whole
    /// messages only: a write under way finishes). What is queued afterwards, such as a
    /// NOTIFICATION before [`ConnectionTasks::close`], is written as usual.
    pub fn discard_queued(&self) {
        self.queue.discarding.store(true, Ordering::Relaxed);
        let _ = self.writer.send(WriteCommand::EndDiscard);
    }

    /// Resolves once everything queued so far is written (dropped if the connection goes).
    pub fn written(&self) -> tokio::sync::oneshot::Receiver<()> {
        let (done, receiver) = tokio::sync::oneshot::channel();
        let _ = self.writer.send(WriteCommand::Notify(done));
        receiver
    }

    /// Stop reading; write what is queued, then close. Returns a task that ends when the
    /// connection is closed, after at most [`CLOSE_TIMEOUT`] (a peer that does not read
    /// cannot keep the writer alive).
    pub fn close(self) -> JoinHandle<()> {
        self.reader.abort();
        let _ = self.writer.send(WriteCommand::Close);
        let mut writer = self.writer_task;
        tokio::spawn(async move {
            if tokio::time::timeout(CLOSE_TIMEOUT, &mut writer)
                .await
                .is_err()
            {
                writer.abort();
            }
        })
    }
}

/// Read buffer of an idle connection: one maximum-size message.
const READ_SMALL: usize = 4096;
/// Read buffer while the peer sends faster than we read (a table transfer).
const READ_LARGE: usize = 64 * 1024;
/// Most bytes gathered into one write system call.
pub const WRITE_COALESCE: usize = 64 * 1024;

async fn read_frames(id: ConnectionId, read: OwnedReadHalf, events: mpsc::Sender<ReadEvent>) {
    // No buffer while idle (a thousand quiet sessions must not hold one each): it is made
    // when the socket is readable, small, or large while the last read filled it.
    let mut buffer = BytesMut::new();
    let mut want = READ_SMALL;
    loop {
        // Cut every whole message already buffered.
        loop {
            match frame_len(&buffer) {
                Ok(Some(len)) if buffer.len() >= len => {
                    let frame = buffer.split_to(len).freeze();
                    if events.send(ReadEvent::Frame(id, frame)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => break,
                Err(error) => {
                    let _ = events.send(ReadEvent::Malformed(id, Box::new(error))).await;
                    return;
                }
            }
        }
        if buffer.is_empty() {
            // Whole messages went out with their share of the allocation.
            buffer = BytesMut::new();
        }
        if read.readable().await.is_err() {
            let _ = events.send(ReadEvent::Closed(id)).await;
            return;
        }
        if buffer.capacity() - buffer.len() < READ_SMALL {
            buffer.reserve(want);
        }
        let room = buffer.capacity() - buffer.len();
        match read.try_read_buf(&mut buffer) {
            Ok(0) => {
                let _ = events.send(ReadEvent::Closed(id)).await;
                return;
            }
            Ok(read) => want = if read >= room { READ_LARGE } else { READ_SMALL },
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                let _ = events.send(ReadEvent::Closed(id)).await;
                return;
            }
        }
    }
}

/// Write queued messages, gathering what is queued into one buffer of up to
/// [`WRITE_COALESCE`] bytes per system call, and count down what was written.
async fn write_frames(
    mut write: OwnedWriteHalf,
    mut commands: mpsc::UnboundedReceiver<WriteCommand>,
    queue: Arc<Queue>,
) {
    let mut batch = Coalescer::default();
    while let Some(command) = commands.recv().await {
        let mut next = Some(command);
        while let Some(command) = next.take() {
            match command {
                WriteCommand::Data(bytes) if queue.discarding.load(Ordering::Relaxed) => {
                    queue.written(bytes.len());
                }
                WriteCommand::Data(bytes) => {
                    if let Some(full) = batch.push(bytes)
                        && write_counted(&mut write, full, &queue).await.is_err()
                    {
                        return;
                    }
                }
                WriteCommand::Notify(done) => {
                    if write_counted(&mut write, batch.take(), &queue)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    let _ = done.send(());
                }
                WriteCommand::Close => {
                    let _ = write_counted(&mut write, batch.take(), &queue).await;
                    let _ = write.shutdown().await;
                    return;
                }
                WriteCommand::EndDiscard => {
                    queue.written(batch.take().len());
                    queue.discarding.store(false, Ordering::Relaxed);
                }
            }
            next = commands.try_recv().ok();
        }
        if write_counted(&mut write, batch.take(), &queue)
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = write.shutdown().await;
}

/// Write `bytes` whole, then take them off the queue count.
async fn write_counted(
    write: &mut OwnedWriteHalf,
    bytes: Bytes,
    queue: &Queue,
) -> std::io::Result<()> {
    write.write_all(&bytes).await?;
    queue.written(bytes.len());
    Ok(())
}

/// Gathers messages into write-sized buffers.
#[derive(Debug, Default)]
pub struct Coalescer {
    buffer: BytesMut,
}

impl Coalescer {
    /// Add `bytes`; returns a buffer to write when [`WRITE_COALESCE`] bytes are gathered.
    pub fn push(&mut self, bytes: Bytes) -> Option<Bytes> {
        if self.buffer.is_empty() && bytes.len() >= WRITE_COALESCE {
            return Some(bytes);
        }
        self.buffer.extend_from_slice(&bytes);
        (self.buffer.len() >= WRITE_COALESCE).then(|| self.take())
    }

    /// Everything gathered (possibly nothing). The buffer goes with it: an idle connection
    /// holds no write buffer.
    pub fn take(&mut self) -> Bytes {
        std::mem::take(&mut self.buffer).freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_messages_are_gathered_until_the_write_size() {
        let mut coalescer = Coalescer::default();
        let message = Bytes::from(vec![7u8; 1000]);
        let mut written = Vec::new();
        for _ in 0..200 {
            written.extend(coalescer.push(message.clone()));
        }
        written.push(coalescer.take());
        assert_eq!(written.len(), 4);
        assert!(written[..3].iter().all(|b| b.len() >= WRITE_COALESCE));
        assert_eq!(written.iter().map(Bytes::len).sum::<usize>(), 200_000);
        assert!(coalescer.take().is_empty());
    }

    /// A connection whose tasks write to the returned stream's peer.
    async fn connection_pair(receive_buffer: Option<u32>) -> (ConnectionTasks, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).unwrap();
        }
        let reader = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let (events, _) = mpsc::channel(1);
        let tasks = ConnectionTasks::spawn(ConnectionId(1), stream, events);
        (tasks, reader)
    }

    async fn read_to_end(mut stream: TcpStream) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let mut received = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut received),
        )
        .await
        .expect("the writer closes within 10 s")
        .unwrap();
        received
    }

    #[tokio::test]
    async fn queued_bytes_count_up_on_send_and_down_once_written() {
        let (tasks, reader) = connection_pair(None).await;
        let message = Bytes::from(vec![7u8; 1000]);
        // The writer task does not run between these calls (one-thread runtime).
        let queued: Vec<usize> = (0..3).map(|_| tasks.send(message.clone())).collect();
        assert_eq!(queued, [1000, 2000, 3000]);
        assert_eq!(tasks.queued(), 3000);
        tasks.written().await.unwrap();
        assert_eq!(tasks.queued(), 0);
        tasks.close().await.unwrap();
        assert_eq!(read_to_end(reader).await.len(), 3000);
    }

    #[tokio::test]
    async fn discarding_drops_what_waits_and_writes_what_is_queued_after() {
        // The reader does not read at first, with a small receive buffer: the writer blocks
        // on the first chunks and the rest waits in the queue.
        let (tasks, reader) = connection_pair(Some(4096)).await;
        let chunk = Bytes::from(vec![1u8; 1024 * 1024]);
        for _ in 0..64 {
            tasks.send(chunk.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let gauge = tasks.queue_gauge();
        assert!(
            gauge.load(Ordering::Relaxed) > 32 * 1024 * 1024,
            "still queued"
        );
        tasks.discard_queued();
        tasks.send(Bytes::from_static(b"NOTIFICATION"));
        let closed = tasks.close();
        let received = read_to_end(reader).await;
        closed.await.unwrap();
        assert!(
            received.ends_with(b"NOTIFICATION"),
            "what follows the discard is written"
        );
        assert!(
            received.len() < 16 * 1024 * 1024,
            "most of the 64 MiB was dropped, {} bytes were written",
            received.len()
        );
        assert_eq!(
            gauge.load(Ordering::Relaxed),
            0,
            "nothing counted as queued"
        );
    }

    #[test]
    fn a_large_buffer_goes_out_without_copy() {
        let mut coalescer = Coalescer::default();
        let large = Bytes::from(vec![1u8; WRITE_COALESCE + 1]);
        let out = coalescer.push(large.clone());
        assert_eq!(out.map(|b| b.as_ptr()), Some(large.as_ptr()));
    }
}
