//! The stream primitives composed: a packet FIFO feeding a skid buffer.
//!
//! This is the buffering every path of the NIC ends in: frames are stored
//! whole, a frame marked bad on its last beat never leaves, and the output
//! is registered. `overlay-nic run` streams captures through it with the
//! golden model deciding which frames are bad.

use crate::frames::StreamBlock;
use overlay_nic_hdl::{PacketFifo, SkidBuffer, StreamSink, StreamSource};
use rust_hdl::prelude::*;

/// Per-frame sideband carried through the pipeline.
pub type PipelineMeta = Bits<32>;

/// 2048 beats (16 KiB: a 9000-byte jumbo frame fits) and up to 32 frames.
pub type PipelineFifo = PacketFifo<PipelineMeta, 11, 12, 5, 6>;

#[derive(LogicBlock, Default)]
pub struct StreamPipeline {
    pub clock: Signal<In, Clock>,
    pub s_axis: StreamSink<PipelineMeta>,
    /// With a frame's last beat: drop the frame.
    pub s_bad: Signal<In, Bit>,
    pub m_axis: StreamSource<PipelineMeta>,
    pub dropped_bad: Signal<Out, Bits<32>>,
    pub dropped_oversize: Signal<Out, Bits<32>>,
    fifo: PipelineFifo,
    skid: SkidBuffer<PipelineMeta>,
}

impl Logic for StreamPipeline {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, fifo, skid);
        StreamSink::<PipelineMeta>::link(&mut self.s_axis, &mut self.fifo.s_axis);
        self.fifo.s_bad.next = self.s_bad.val();
        StreamSource::<PipelineMeta>::join(&mut self.fifo.m_axis, &mut self.skid.s_axis);
        StreamSource::<PipelineMeta>::link(&mut self.m_axis, &mut self.skid.m_axis);
        self.dropped_bad.next = self.fifo.dropped_bad.val();
        self.dropped_oversize.next = self.fifo.dropped_oversize.val();
    }
}

impl StreamBlock<PipelineMeta> for StreamPipeline {
    const NAME: &'static str = "stream_pipeline";
    fn clock(&mut self) -> &mut Signal<In, Clock> {
        &mut self.clock
    }
    fn input(&mut self) -> &mut StreamSink<PipelineMeta> {
        &mut self.s_axis
    }
    fn output(&mut self) -> &mut StreamSource<PipelineMeta> {
        &mut self.m_axis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_pipeline_is_synthesizable() {
        let mut uut = StreamPipeline::default();
        uut.connect_all();
        yosys_validate("stream_pipeline", &generate_verilog(&uut)).unwrap();
    }
}
