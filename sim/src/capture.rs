//! pcap files in and out (pcap-file does the format; this fixes the
//! conventions: Ethernet link type, frames without FCS, as at a MAC's
//! client interface).

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Why a capture could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("pcap: {0}")]
    Pcap(#[from] pcap_file::PcapError),
    #[error("link type {0:?} is not Ethernet")]
    NotEthernet(DataLink),
    #[error(
        "frame {index} was truncated by the capture's snap length ({captured} of {original} bytes)"
    )]
    Truncated {
        index: usize,
        captured: usize,
        original: u32,
    },
}

/// One captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedFrame {
    pub timestamp: Duration,
    pub data: Vec<u8>,
}

/// Reads every frame of an Ethernet pcap from `source`. Truncated frames
/// are an error: a test must never run on a frame that was cut short.
pub fn read_frames(source: impl Read) -> Result<Vec<CapturedFrame>, CaptureError> {
    let mut reader = PcapReader::new(source)?;
    let link = reader.header().datalink;
    if link != DataLink::ETHERNET {
        return Err(CaptureError::NotEthernet(link));
    }
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet?;
        if packet.data.len() < packet.orig_len as usize {
            return Err(CaptureError::Truncated {
                index: frames.len(),
                captured: packet.data.len(),
                original: packet.orig_len,
            });
        }
        frames.push(CapturedFrame {
            timestamp: packet.timestamp,
            data: packet.data.into_owned(),
        });
    }
    Ok(frames)
}

/// Reads every frame of the pcap file at `path`.
pub fn read_pcap(path: &Path) -> Result<Vec<CapturedFrame>, CaptureError> {
    let file = File::open(path).map_err(|source| CaptureError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_frames(BufReader::new(file))
}

/// Writes frames to a pcap as they come (nothing held back but the
/// writer's buffer).
pub struct CaptureWriter<W: Write> {
    writer: PcapWriter<W>,
}

impl CaptureWriter<BufWriter<File>> {
    /// Creates (or truncates) the pcap file at `path`.
    pub fn create(path: &Path) -> Result<Self, CaptureError> {
        let file = File::create(path).map_err(|source| CaptureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::new(BufWriter::new(file))
    }
}

impl<W: Write> CaptureWriter<W> {
    /// Starts an Ethernet pcap with a snap length that never truncates.
    pub fn new(sink: W) -> Result<Self, CaptureError> {
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            snaplen: 262_144,
            ..Default::default()
        };
        Ok(Self {
            writer: PcapWriter::with_header(sink, header)?,
        })
    }

    /// Appends one frame.
    pub fn write(&mut self, timestamp: Duration, frame: &[u8]) -> Result<(), CaptureError> {
        self.writer
            .write_packet(&PcapPacket::new(timestamp, frame.len() as u32, frame))?;
        Ok(())
    }

    /// Flushes and returns the sink.
    pub fn finish(self) -> Result<W, CaptureError> {
        let mut sink = self.writer.into_writer();
        sink.flush().map_err(|source| CaptureError::Io {
            path: "pcap output".into(),
            source,
        })?;
        Ok(sink)
    }
}

/// The Zeek project's VXLAN test trace (BSD licence): 10 frames, VNI 123,
/// VTEPs 192.168.56.11/.12, inner ARP and ICMP between 10.0.0.1 and
/// 10.0.0.2. Built in so `overlay-nic run` works with no arguments.
pub const ZEEK_VXLAN_PCAP: &[u8] = include_bytes!("../data/vxlan.pcap");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_capture_reads_and_round_trips() {
        let frames = read_frames(ZEEK_VXLAN_PCAP).unwrap();
        assert_eq!(frames.len(), 10);
        let mut out = CaptureWriter::new(Vec::new()).unwrap();
        for f in &frames {
            out.write(f.timestamp, &f.data).unwrap();
        }
        let bytes = out.finish().unwrap();
        assert_eq!(read_frames(bytes.as_slice()).unwrap(), frames);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_frames(&b"not a pcap at all"[..]).is_err());
        assert!(read_frames(&ZEEK_VXLAN_PCAP[..100]).is_err());
    }
}
