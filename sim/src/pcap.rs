//! pcap files in and out for stream tests.
//!
//! The pcap-file crate does the format; this module fixes the conventions
//! of the project's wire side: Ethernet link type, frames without FCS (as
//! at a MAC's client interface), no truncated frames. Reading loads a whole
//! capture (test captures are small); writing streams, frame by frame, so a
//! long simulation never holds its output in memory.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader};
use pcap_file::{DataLink, TsResolution};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Snap length written to pcap headers: larger than any frame we make, so
/// nothing is ever cut.
pub const SNAPLEN: u32 = 262_144;

/// Why a capture could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// Opening, creating or flushing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The bytes are not a well-formed pcap (bad magic, cut-off record, ...).
    #[error("{}: not a valid pcap: {source}", path.display())]
    Format {
        path: PathBuf,
        source: pcap_file::PcapError,
    },
    /// The capture holds another link type than Ethernet.
    #[error("{}: link type {link:?} is not Ethernet", path.display())]
    NotEthernet { path: PathBuf, link: DataLink },
    /// A frame was cut by the capture's snap length: a test must never run
    /// on a frame that is not whole.
    #[error("{}: frame {index} was truncated by the snap length ({captured} of {original} bytes)", path.display())]
    Truncated {
        path: PathBuf,
        index: usize,
        captured: usize,
        original: u32,
    },
    /// A frame to write is longer than [`SNAPLEN`].
    #[error("{}: a frame of {len} bytes is longer than the snap length {SNAPLEN}", path.display())]
    FrameTooLong { path: PathBuf, len: usize },
}

/// One captured frame with its timestamp (time since the Unix epoch, as
/// pcap stores it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcapFrame {
    pub timestamp: Duration,
    /// The Ethernet frame, without FCS.
    pub data: Vec<u8>,
}

/// Reads every frame of an Ethernet pcap from `source`; `name` labels
/// errors (a path, or what the bytes are).
pub fn read_pcap_from(source: impl Read, name: &Path) -> Result<Vec<PcapFrame>, PcapError> {
    let format = |source| PcapError::Format {
        path: name.to_path_buf(),
        source,
    };
    let mut reader = PcapReader::new(source).map_err(format)?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        return Err(PcapError::NotEthernet {
            path: name.to_path_buf(),
            link,
        });
    }
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(format)?;
        if packet.data.len() < packet.orig_len as usize {
            return Err(PcapError::Truncated {
                path: name.to_path_buf(),
                index: frames.len(),
                captured: packet.data.len(),
                original: packet.orig_len,
            });
        }
        frames.push(PcapFrame {
            timestamp: packet.timestamp,
            data: packet.data.into_owned(),
        });
    }
    Ok(frames)
}

/// Reads every frame, with timestamps, of the Ethernet pcap file at `path`.
pub fn read_pcap_frames(path: &Path) -> Result<Vec<PcapFrame>, PcapError> {
    let file = File::open(path).map_err(|source| PcapError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_pcap_from(BufReader::new(file), path)
}

/// Reads the frames (bytes only) of the Ethernet pcap file at `path`.
pub fn read_pcap(path: &Path) -> Result<Vec<Vec<u8>>, PcapError> {
    Ok(read_pcap_frames(path)?
        .into_iter()
        .map(|f| f.data)
        .collect())
}

/// Writes an Ethernet pcap frame by frame, as it goes (nothing is held back
/// but the writer's buffer). Timestamps have nanosecond resolution, so
/// cycle stamps ([`cycle_timestamp`]) stay apart.
pub struct PcapWriter<W: Write> {
    writer: pcap_file::pcap::PcapWriter<W>,
    name: PathBuf,
    frames: u64,
}

impl PcapWriter<BufWriter<File>> {
    /// Creates (or truncates) the pcap file at `path` and writes its header.
    pub fn create(path: &Path) -> Result<Self, PcapError> {
        let file = File::create(path).map_err(|source| PcapError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(BufWriter::new(file), path)
    }
}

impl<W: Write> PcapWriter<W> {
    /// Starts an Ethernet pcap on `sink`; `name` labels errors.
    pub fn new(sink: W, name: &Path) -> Result<Self, PcapError> {
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            snaplen: SNAPLEN,
            ts_resolution: TsResolution::NanoSecond,
            ..Default::default()
        };
        let writer = pcap_file::pcap::PcapWriter::with_header(sink, header).map_err(|source| {
            PcapError::Format {
                path: name.to_path_buf(),
                source,
            }
        })?;
        Ok(Self {
            writer,
            name: name.to_path_buf(),
            frames: 0,
        })
    }

    /// Appends one frame (Ethernet, without FCS) stamped `timestamp`.
    pub fn write(&mut self, timestamp: Duration, frame: &[u8]) -> Result<(), PcapError> {
        if frame.len() > SNAPLEN as usize {
            return Err(PcapError::FrameTooLong {
                path: self.name.clone(),
                len: frame.len(),
            });
        }
        self.writer
            .write_packet(&PcapPacket::new(timestamp, frame.len() as u32, frame))
            .map_err(|source| PcapError::Format {
                path: self.name.clone(),
                source,
            })?;
        self.frames += 1;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Flushes and returns the sink. Dropping the writer flushes too, but
    /// loses any error.
    pub fn finish(self) -> Result<W, PcapError> {
        let mut sink = self.writer.into_writer();
        sink.flush().map_err(|source| PcapError::Io {
            path: self.name,
            source,
        })?;
        Ok(sink)
    }
}

/// The capture timestamp of clock cycle `cycle` at 156.25 MHz (6.4 ns per
/// cycle), counted from the epoch: simulation output pcaps show the
/// cycle-accurate spacing of frames.
pub fn cycle_timestamp(cycle: u64) -> Duration {
    // 6.4 ns = 32/5 ns; u128 so no cycle count overflows.
    let nanos = u128::from(cycle) * 32 / 5;
    Duration::new(
        (nanos / 1_000_000_000) as u64,
        (nanos % 1_000_000_000) as u32,
    )
}
