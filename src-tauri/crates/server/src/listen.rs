//! The engine's listening sockets: how many connections each port holds at once, how long a
//! connection may sit idle, and how long HTTP/1 headers may take (axum::serve has neither a
//! cap nor a timer, so a few hundred idle or slow-header connections could take every file
//! descriptor and stop the UI answering).
//!
//! Over the cap a new connection is refused at once: an HTTP port answers 503 with the reason
//! and closes; the gRPC port closes (its clients reconnect with backoff).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::config::Limits;

/// How long an accept error (out of file descriptors, most often) pauses accepting: the next
/// try fails the same way until a connection closes.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long a refusal may take to write: the refused client gets one short answer or none.
const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection: its slot on the port, and its idle deadline, pushed back by every byte read
/// or written; past it, reads fail with `TimedOut` and the server closes the connection.
pub struct Conn {
    io: TcpStream,
    _slot: OwnedSemaphorePermit,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Conn {
    fn new(io: TcpStream, slot: OwnedSemaphorePermit, idle: Duration) -> Self {
        Self {
            io,
            _slot: slot,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }

    fn touched(&mut self) {
        let next = Instant::now() + self.idle;
        self.deadline.as_mut().reset(next);
    }

    fn idle_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "the connection was idle too long",
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touched();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.idle_out(cx).map(Err),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.touched();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.touched();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// Accepts the next connection that finds a slot; one over the cap is handed to `refuse`.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    limits: &Limits,
    what: &'static str,
    refuse: fn(TcpStream, &'static str, usize),
) -> Conn {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(err) => {
                tracing::warn!(%err, what, "cannot accept a connection; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                // Exports are small writes answered at once: no Nagle delay.
                let _ = stream.set_nodelay(true);
                return Conn::new(stream, slot, limits.idle_timeout);
            }
            Err(_) => {
                tracing::warn!(
                    what,
                    cap = limits.max_connections,
                    "connection refused: at the cap"
                );
                refuse(stream, what, limits.max_connections);
            }
        }
    }
}

/// An HTTP client over the cap reads why, then the connection closes.
fn refuse_http(mut stream: TcpStream, what: &'static str, cap: usize) {
    tokio::spawn(async move {
        let body = serde_json::json!({
            "error": "unavailable",
            "message": format!(
                "Sightline holds {cap} connections on its {what} port, its limit; close idle \
                 connections or retry"
            ),
        })
        .to_string();
        let answer = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
             retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = tokio::time::timeout(REFUSAL_WRITE_TIMEOUT, async {
            stream.write_all(answer.as_bytes()).await?;
            stream.shutdown().await
        })
        .await;
    });
}

/// A gRPC client over the cap is closed on (an HTTP/1 answer would not parse as HTTP/2).
fn refuse_grpc(stream: TcpStream, _what: &'static str, _cap: usize) {
    drop(stream);
}

/// Serves `router` on `listener` until `stop` resolves, then lets open connections finish
/// their requests (the caller bounds how long).
pub async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    what: &'static str,
    stop: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let (closing, closed) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let conn = tokio::select! {
            _ = &mut stop => break,
            conn = accept(&listener, &slots, &limits, what, refuse_http) => conn,
        };
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(conn), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%err, "connection ended");
                    }
                }
                _ = async { drop(closed.wait_for(|c| *c).await) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends: all slots back means all ended.
    let _ = slots
        .acquire_many(u32::try_from(limits.max_connections).unwrap_or(u32::MAX))
        .await;
}

/// The gRPC port's connections, capped and with the idle deadline, for tonic.
pub fn grpc_incoming(
    listener: TcpListener,
    limits: Limits,
) -> impl futures_util::Stream<Item = io::Result<Conn>> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    futures_util::stream::unfold(
        (listener, slots, limits),
        |(listener, slots, limits)| async move {
            let conn = accept(&listener, &slots, &limits, "OTLP/gRPC", refuse_grpc).await;
            Some((Ok(conn), (listener, slots, limits)))
        },
    )
}
