//! overlay-nic-hdl: the synthesizable datapath of the overlay-nic VXLAN
//! offload NIC, written in RustHDL.
//!
//! Every block here simulates in rust-hdl and exports Verilog that yosys,
//! iverilog and Verilator accept; the `overlay-nic-sim` crate runs each
//! block's exported Verilog on the same vectors as the Rust simulation.

pub mod axi_lite;
pub mod block_ram;
pub mod cam;
pub mod checksum_inserter;
pub mod decap_validator;
pub mod decapsulator;
pub mod encapsulator;
pub mod event_queue;
pub mod header_parser;
pub mod nic;
pub mod packet_fifo;
pub mod register_file;
pub mod rx_path;
pub mod rx_types;
pub mod segment_sum_fifo;
pub mod skid_buffer;
pub mod stream;
pub mod tso_first_segment;
pub mod tso_segmenter;
pub mod tso_tap;
pub mod tx_arbiter;
pub mod tx_checksum_tap;
pub mod tx_types;
pub mod vf_register_file;

pub use axi_lite::{AxiLiteMaster, AxiLiteSlave};
pub use block_ram::BlockRam;
pub use cam::Cam;
pub use checksum_inserter::ChecksumInserter;
pub use decapsulator::Decapsulator;
pub use encapsulator::{EncapState, Encapsulator};
pub use header_parser::{HeaderParser, ParsedHeader};
pub use packet_fifo::PacketFifo;
pub use register_file::RegisterFile;
pub use segment_sum_fifo::SegmentSumFifo;
pub use skid_buffer::SkidBuffer;
pub use stream::{StreamSink, StreamSource};
pub use tso_first_segment::TsoFirstSegment;
pub use tso_segmenter::TsoSegmenter;
pub use tso_tap::TsoTap;
pub use tx_arbiter::TxArbiter;
pub use tx_checksum_tap::TxChecksumTap;
pub use vf_register_file::VfRegisterFile;
