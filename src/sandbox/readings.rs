//! What a script reads besides its input and its calls' replies: the wall clock and
//! random bytes. A recorded run keeps them and a replay gives them back, so a script
//! that works out an expiry from `Date.now()`, or a name from `Math.random()`, makes
//! the same calls again (review 46: a secret's grace period did not replay).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wasi_rand::SeedableRng;

/// Clock readings a recording keeps: a script reading the clock in a loop keeps its
/// first ones, and its replay goes on from the last with the time that passes.
const MAX_CLOCK_READINGS: usize = 10_000;

/// The readings as a cassette holds them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedReadings {
    /// The seed of the generator every random byte of the run came from, in hex.
    pub seed: String,
    /// The wall clock as the script read it, in nanoseconds since 1970, in order.
    pub clock: Vec<u64>,
}

impl RecordedReadings {
    /// The seed's 32 bytes, or what is wrong with it.
    fn seed_bytes(&self) -> Result<[u8; 32], String> {
        let wrong = || format!("readings.seed must be 64 hex digits, got {:?}", self.seed);
        if self.seed.len() != 64 || !self.seed.is_ascii() {
            return Err(wrong());
        }
        let mut seed = [0u8; 32];
        for (byte, pair) in seed.iter_mut().zip(self.seed.as_bytes().chunks(2)) {
            *byte = std::str::from_utf8(pair).ok().and_then(|pair| u8::from_str_radix(pair, 16).ok()).ok_or_else(wrong)?;
        }
        Ok(seed)
    }
}

/// One run's clock and random source: recording what the script reads, or giving
/// back what a recording read.
pub struct Readings {
    seed: [u8; 32],
    tape: Mutex<Tape>,
}

enum Tape {
    Recording(Vec<u64>),
    /// The readings not given yet, and the last one given with when.
    Replaying { left: VecDeque<u64>, last: Option<(u64, Instant)> },
}

impl Readings {
    /// A fresh recording, its seed from the system's secure random source.
    pub fn recording() -> Arc<Self> {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        Arc::new(Self { seed, tape: Mutex::new(Tape::Recording(Vec::new())) })
    }

    /// Gives back what `recorded` read.
    pub fn replaying(recorded: &RecordedReadings) -> Result<Arc<Self>, String> {
        let seed = recorded.seed_bytes()?;
        Ok(Arc::new(Self { seed, tape: Mutex::new(Tape::Replaying { left: recorded.clock.iter().copied().collect(), last: None }) }))
    }

    /// What this run has read so far, to be written to its cassette.
    pub fn recorded(&self) -> RecordedReadings {
        let clock = match &*self.tape.lock().unwrap_or_else(|e| e.into_inner()) {
            Tape::Recording(clock) => clock.clone(),
            Tape::Replaying { .. } => Vec::new(),
        };
        RecordedReadings { seed: self.seed.iter().map(|b| format!("{b:02x}")).collect(), clock }
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

    /// The script's random source: a ChaCha generator with this run's seed (secure, as
    /// the seed is; the same bytes in the same order for a replay).
    pub fn random(&self) -> wasi_rand::rngs::StdRng {
        wasi_rand::rngs::StdRng::from_seed(self.seed)
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
    use wasi_rand::Rng;

    #[test]
    fn a_replay_reads_what_its_recording_read() {
        let recording = Readings::recording();
        let clock = recording.clock();
        let read: Vec<Duration> = (0..3).map(|_| wasmtime_wasi::HostWallClock::now(&clock)).collect();
        let bytes = recording.random().next_u64();
        let recorded = recording.recorded();
        assert_eq!(recorded.clock.len(), 3);
        let replay = Readings::replaying(&recorded).unwrap();
        let clock = replay.clock();
        let again: Vec<Duration> = (0..3).map(|_| wasmtime_wasi::HostWallClock::now(&clock)).collect();
        assert_eq!(read, again);
        assert_eq!(bytes, replay.random().next_u64());
        // Past the recording, time goes on from its last reading.
        assert!(wasmtime_wasi::HostWallClock::now(&clock) >= read[2]);
    }

    #[test]
    fn a_broken_seed_is_named() {
        let broken = RecordedReadings { seed: "zz".repeat(32), clock: vec![] };
        assert!(Readings::replaying(&broken).err().unwrap().contains("readings.seed must be 64 hex digits"));
    }
}
