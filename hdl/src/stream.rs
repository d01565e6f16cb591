//! The packet stream interface every datapath block speaks.
//!
//! AXI4-Stream conventions, so the core drops into other FPGA designs:
//!
//! | signal  | width | meaning                                                    |
//! |---------|-------|------------------------------------------------------------|
//! | `tdata` | 64    | 8 byte lanes; the frame's first byte is lane 0 (`tdata[7:0]`) |
//! | `tkeep` | 8     | one bit per lane, contiguous from lane 0; only the last beat may be partial |
//! | `tlast` | 1     | last beat of the frame                                     |
//! | `tvalid`| 1     | source has a beat; never waits on `tready`                 |
//! | `tready`| 1     | sink takes the beat; a beat moves when both are high      |
//! | `tuser` | M     | per-frame metadata (descriptor), meaningful on the first beat only |
//!
//! The metadata type `M` is a parameter because TX and RX carry different
//! descriptors; blocks that do not interpret it pass it through.

use rust_hdl::prelude::*;

/// Data width of the datapath in bits (8 byte lanes).
pub const DATA_BITS: usize = 64;
/// Byte lanes per beat.
pub const LANES: usize = 8;

/// The driving end of a packet stream (outputs data, takes `tready`).
#[derive(LogicInterface, Default)]
#[join = "StreamSink"]
pub struct StreamSource<M: Synth> {
    pub tdata: Signal<Out, Bits<64>>,
    pub tkeep: Signal<Out, Bits<8>>,
    pub tlast: Signal<Out, Bit>,
    pub tvalid: Signal<Out, Bit>,
    pub tuser: Signal<Out, M>,
    pub tready: Signal<In, Bit>,
}

/// The receiving end of a packet stream (takes data, drives `tready`).
#[derive(LogicInterface, Default)]
#[join = "StreamSource"]
pub struct StreamSink<M: Synth> {
    pub tdata: Signal<In, Bits<64>>,
    pub tkeep: Signal<In, Bits<8>>,
    pub tlast: Signal<In, Bit>,
    pub tvalid: Signal<In, Bit>,
    pub tuser: Signal<In, M>,
    pub tready: Signal<Out, Bit>,
}

/// One beat without its metadata, as stored in packet buffers
/// (73 bits: 64 data, 8 keep, 1 last).
#[derive(Default, PartialEq, LogicStruct, Copy, Clone, Debug)]
pub struct Beat {
    pub data: Bits<64>,
    pub keep: Bits<8>,
    pub last: Bit,
}
