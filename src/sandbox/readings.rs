//! What a script reads besides its input and its calls' replies that a replay must
//! give back: the wall clock. A recorded run keeps its readings and a replay gives
//! them back, so a script that works out an expiry from `Date.now()` makes the same
//! calls again (review 46: a secret's grace period did not replay). Random numbers are
//! not kept: with them, whoever holds a cassette could draw again a password the
//! script drew, so a script whose calls depend on them does not replay.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Clock readings a recording keeps: a script reading the clock in a loop keeps its
/// first ones, and its replay goes on from the last with the time that passes.
const MAX_CLOCK_READINGS: usize = 10_000;

/// The readings as a cassette holds them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedReadings {
    /// The wall clock as the script read it, in nanoseconds since 1970, in order.
    pub clock: Vec<u64>,
}

/// One run's wall clock: recording what the script reads, or giving back what a
/// recording read.
pub struct Readings {
    tape: Mutex<Tape>,
}

enum Tape {
    Recording(Vec<u64>),
    /// The readings not given yet, and the last one given with when.
    Replaying { left: VecDeque<u64>, last: Option<(u64, Instant)> },
}

impl Readings {
    pub fn recording() -> Arc<Self> {
        Arc::new(Self { tape: Mutex::new(Tape::Recording(Vec::new())) })
    }

    /// Gives back what `recorded` read.
    pub fn replaying(recorded: &RecordedReadings) -> Arc<Self> {
        Arc::new(Self { tape: Mutex::new(Tape::Replaying { left: recorded.clock.iter().copied().collect(), last: None }) })
    }

    /// What this run has read so far, to be written to its cassette.
    pub fn recorded(&self) -> RecordedReadings {
        let clock = match &*self.tape.lock().unwrap_or_else(|e| e.into_inner()) {
            Tape::Recording(clock) => clock.clone(),
            Tape::Replaying { .. } => Vec::new(),
        };
        RecordedReadings { clock }
    }

    /// The wall clock as the script reads it.
    fn now(&self) -> Duration {
        let mut tape = self.tape.lock().unwrap_or_else(|e| e.into_inner());
        let nanos = match &mut *tape {
            Tape::Recording(clock) => {
                let now = system_nanos();
                if clock.len() < MAX_CLOCK_READINGS {
                    clock.push(now);
                }
                now
            }
            Tape::Replaying { left, last } => match left.pop_front() {
                Some(reading) => {
                    *last = Some((reading, Instant::now()));
                    reading
                }
                None => last.map_or_else(system_nanos, |(reading, at)| reading.saturating_add(at.elapsed().as_nanos() as u64)),
            },
        };
        Duration::from_nanos(nanos)
    }

    /// The script's wall clock.
    pub fn clock(self: &Arc<Self>) -> ReadingsClock {
        ReadingsClock(self.clone())
    }
}

fn system_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos() as u64)
}

/// The wall clock a guest reads through WASI.
pub struct ReadingsClock(Arc<Readings>);

impl wasmtime_wasi::HostWallClock for ReadingsClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.0.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime_wasi::HostWallClock;

    #[test]
    fn a_replay_reads_what_its_recording_read_then_time_goes_on() {
        let recording = Readings::recording();
        let clock = recording.clock();
        let read: Vec<Duration> = (0..3).map(|_| clock.now()).collect();
        let recorded = recording.recorded();
        assert_eq!(recorded.clock.len(), 3);
        let replay = Readings::replaying(&recorded).clock();
        let again: Vec<Duration> = (0..3).map(|_| replay.now()).collect();
        assert_eq!(read, again);
        assert!(replay.now() >= read[2]);
    }
}
