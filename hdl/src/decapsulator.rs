//! RX decapsulator (interface stub while the block is written on its own
//! branch): strips the outer header and hands each frame to the functions
//! in its descriptor's `dest` mask.

use crate::rx_types::{RxDescriptor, RxMeta};
use crate::stream::{StreamSink, StreamSource};
use rust_hdl::prelude::*;

#[derive(LogicBlock)]
pub struct Decapsulator<const NF: usize> {
    pub clock: Signal<In, Clock>,
    pub s_axis: StreamSink<RxDescriptor>,
    pub m_host: [StreamSource<RxMeta>; NF],
    pub frame_done: Signal<Out, Bit>,
    pub frame_dest: Signal<Out, Bits<16>>,
    pub frame_length: Signal<Out, Bits<16>>,
    pub frame_decap: Signal<Out, Bit>,
    zero_meta: Constant<RxMeta>,
}

impl<const NF: usize> Default for Decapsulator<NF> {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            m_host: std::array::from_fn(|_| Default::default()),
            frame_done: Default::default(),
            frame_dest: Default::default(),
            frame_length: Default::default(),
            frame_decap: Default::default(),
            zero_meta: Constant::new(RxMeta::default()),
        }
    }
}

impl<const NF: usize> Logic for Decapsulator<NF> {
    #[hdl_gen]
    fn update(&mut self) {
        self.s_axis.tready.next = true;
        self.frame_done.next = false;
        self.frame_dest.next = 0.into();
        self.frame_length.next = 0.into();
        self.frame_decap.next = false;
        for f in 0..NF {
            self.m_host[f].tvalid.next = false;
            self.m_host[f].tdata.next = 0.into();
            self.m_host[f].tkeep.next = 0.into();
            self.m_host[f].tlast.next = false;
            self.m_host[f].tuser.next = self.zero_meta.val();
        }
    }
}
