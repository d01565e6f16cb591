//! The blocks exported as stand-alone Verilog tops, in their default build
//! parameters: what `overlay-nic verilog` writes and what the Verilog tool
//! tests check.

use crate::pipeline::{PipelineFifo, PipelineMeta, StreamPipeline};
use overlay_nic_hdl::decapsulator::DEFAULT_FUNCTIONS as RX_FUNCTIONS;
use overlay_nic_hdl::tx_arbiter::DEFAULT_FUNCTIONS;
use overlay_nic_hdl::{
    Decapsulator, Encapsulator, HeaderParser, RegisterFile, SkidBuffer, TxArbiter,
};
use overlay_nic_regmap::pf;
use rust_hdl::prelude::*;

/// Number of registers in the PF BAR0 table.
pub const PF_REGISTERS: usize = pf::TABLE.len();

/// The PF BAR0 register slave.
pub type PfRegisterFile = RegisterFile<PF_REGISTERS>;

/// Every VF's BAR0 in the default build: 4 VFs.
pub type DefaultVfRegisterFile = overlay_nic_hdl::VfRegisterFile<5, 80>;

/// The TX arbiter in the default build: the PF and 4 VFs.
pub type DefaultTxArbiter = TxArbiter<DEFAULT_FUNCTIONS>;

/// The RX decapsulator in the default build: the PF and 4 VFs.
pub type DefaultDecapsulator = Decapsulator<RX_FUNCTIONS>;

/// The RX path in the default build: the PF and 4 VFs, a 4096-beat buffer.
pub type DefaultRxPath = overlay_nic_hdl::rx_path::RxPath<RX_FUNCTIONS, 12, 13>;

/// A block ready for export: its file name and its Verilog.
pub struct ExportedBlock {
    pub name: &'static str,
    pub what: &'static str,
    pub verilog: String,
}

fn export<B: Block>(name: &'static str, what: &'static str, mut block: B) -> ExportedBlock {
    block.connect_all();
    ExportedBlock {
        name,
        what,
        verilog: generate_verilog(&block),
    }
}

/// Every top-level block, connected and translated.
pub fn exported_blocks() -> Vec<ExportedBlock> {
    vec![
        export(
            "skid_buffer",
            "skid buffer, 64-bit stream + 32-bit sideband",
            SkidBuffer::<PipelineMeta>::default(),
        ),
        export(
            "packet_fifo",
            "packet FIFO, 2048 beats x 73 bits, 32 frames",
            PipelineFifo::default(),
        ),
        export(
            "register_file",
            "AXI4-Lite register slave, PF BAR0 table",
            PfRegisterFile::new(pf::TABLE),
        ),
        export(
            "vf_register_file",
            "AXI4-Lite register slave, every VF's BAR0 (read-only copies), 4 VFs",
            DefaultVfRegisterFile::default(),
        ),
        export(
            "stream_pipeline",
            "packet FIFO into skid buffer",
            StreamPipeline::default(),
        ),
        export(
            "encapsulator",
            "VXLAN header inserter, 64-bit stream, zero bubbles",
            Encapsulator::default(),
        ),
        export(
            "decapsulator",
            "RX outer-header stripper (0 or 50+ bytes) and broadcaster, PF + 4 VFs, line rate",
            DefaultDecapsulator::default(),
        ),
        export(
            "cam",
            "mapping table: 64 entries, 72-bit keys (VNI + MAC), two lookup ports, values in block RAM",
            overlay_nic_hdl::cam::Cam::<72, overlay_nic_hdl::tx_types::MapValue, 64, 6>::default(),
        ),
        export(
            "header_parser",
            "header parser tap: L2/L3/L4 fields and TX flow hash",
            HeaderParser::default(),
        ),
        export(
            "tx_arbiter",
            "TX frame round-robin arbiter, PF + 4 VFs",
            DefaultTxArbiter::default(),
        ),
        export(
            "decap_validator",
            "RX classification, outer validation, inner checksums, lookups (stream tap)",
            overlay_nic_hdl::decap_validator::DecapValidator::default(),
        ),
        export(
            "tx_checksum_tap",
            "TX checksum tap: L4 (CHECKSUM_PARTIAL) and IPv4 header checksums (stream tap)",
            overlay_nic_hdl::TxChecksumTap::default(),
        ),
        export(
            "checksum_inserter",
            "TX checksum inserter: two 16-bit writes per frame while streaming, zero bubbles",
            overlay_nic_hdl::ChecksumInserter::<overlay_nic_hdl::tx_types::TxDescriptor>::default(),
        ),
        export(
            "tso_tap",
            "TSO tap: TCP/IPv4 checks, TsoInfo record, per-segment payload sums (stream tap)",
            overlay_nic_hdl::TsoTap::default(),
        ),
        export(
            "tso_first_segment",
            "TSO segment 0's lengths, flags, checksums and inner sum from the TsoInfo, one cycle",
            overlay_nic_hdl::TsoFirstSegment::default(),
        ),
        export(
            "segment_sum_fifo",
            "TSO segment sum FIFO, 1024 x 16 bits, speculative writes (commit/rollback)",
            overlay_nic_hdl::SegmentSumFifo::<10, 11>::default(),
        ),
        export(
            "tso_segmenter",
            "TX TSO segmenter: header replayed per segment from a block RAM, payload realigned, zero bubbles",
            overlay_nic_hdl::TsoSegmenter::default(),
        ),
        export(
            "rx_path",
            "the RX offload path alone, PF + 4 VFs, 32 KiB buffer (lookups as ports)",
            DefaultRxPath::default(),
        ),
        export(
            "nic",
            "the NIC: TX and RX offload paths, default build (PF + 4 VFs, 64-entry table, 32 KiB buffers)",
            crate::tx::default_nic(),
        ),
    ]
}
