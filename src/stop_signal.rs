//! The signals that ask the process to stop: Ctrl-C (SIGINT), SIGTERM (a timeout, cron,
//! a redeploy) and SIGHUP (a closed terminal or ssh session). Each stops running scripts
//! the same way, so what they changed is still told.

/// Which signal asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    HangUp,
}

impl StopSignal {
    /// The status a shell gives a command the signal ended: 128 + its number.
    pub fn exit_status(self) -> u8 {
        128 + match self {
            StopSignal::HangUp => 1,
            StopSignal::Interrupt => 2,
            StopSignal::Terminate => 15,
        }
    }
}

/// Waits for the first of the stop signals (only Ctrl-C where there are no others).
pub async fn stop_requested() -> StopSignal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut hangup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) {
            return tokio::select! {
                _ = term.recv() => StopSignal::Terminate,
                _ = hangup.recv() => StopSignal::HangUp,
                _ = ctrl_c() => StopSignal::Interrupt,
            };
        }
    }
    ctrl_c().await;
    StopSignal::Interrupt
}

/// Ctrl-C; never, where it cannot be listened for.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
