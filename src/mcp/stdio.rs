//! The stdio transport, with a signal for when the client leaves (stdin ends): the
//! scripts it started are stopped at once rather than left writing to PingOne for the
//! seconds the MCP library waits for their replies.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::watch;

/// Stdin that sets `gone` when it ends.
pub struct WatchedStdin {
    stdin: tokio::io::Stdin,
    gone: watch::Sender<bool>,
}

impl WatchedStdin {
    pub fn new(gone: watch::Sender<bool>) -> Self {
        Self { stdin: tokio::io::stdin(), gone }
    }
}

impl AsyncRead for WatchedStdin {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stdin).poll_read(cx, buf);
        let ended = matches!(polled, Poll::Ready(Err(_))) || (matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0);
        if ended {
            self.gone.send_replace(true);
        }
        polled
    }
}
