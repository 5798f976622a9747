//! The two halves of one TCP connection: a reader task that cuts the byte stream into BGP
//! messages with [`crate::packet::frame_len`], and a writer task that writes encoded messages.
//!
//! Frames are decoded by the session task, which knows the codec context negotiated so far.

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    /// The header was bad (RFC 4271 §6.1); nothing more is read.
    Malformed(ConnectionId, DecodeError),
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
}

/// A running connection.
#[derive(Debug)]
pub struct ConnectionTasks {
    pub writer: mpsc::UnboundedSender<WriteCommand>,
    reader: JoinHandle<()>,
    writer_task: JoinHandle<()>,
}

impl ConnectionTasks {
    /// Start reading and writing `stream`; frames go to `events`.
    pub fn spawn(id: ConnectionId, stream: TcpStream, events: mpsc::Sender<ReadEvent>) -> Self {
        let (read, write) = stream.into_split();
        let (writer, commands) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_frames(id, read, events));
        let writer_task = tokio::spawn(write_frames(write, commands));
        Self {
            writer,
            reader,
            writer_task,
        }
    }

    /// Queue bytes for writing.
    pub fn send(&self, bytes: Bytes) {
        let _ = self.writer.send(WriteCommand::Data(bytes));
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

async fn read_frames(id: ConnectionId, mut read: OwnedReadHalf, events: mpsc::Sender<ReadEvent>) {
    let mut buffer = BytesMut::with_capacity(64 * 1024);
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
                    let _ = events.send(ReadEvent::Malformed(id, error)).await;
                    return;
                }
            }
        }
        match read.read_buf(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = events.send(ReadEvent::Closed(id)).await;
                return;
            }
            Ok(_) => {}
        }
    }
}

async fn write_frames(
    mut write: OwnedWriteHalf,
    mut commands: mpsc::UnboundedReceiver<WriteCommand>,
) {
    while let Some(command) = commands.recv().await {
        match command {
            WriteCommand::Data(bytes) => {
                if write.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            WriteCommand::Notify(done) => {
                let _ = done.send(());
            }
            WriteCommand::Close => break,
        }
    }
    let _ = write.shutdown().await;
}
