//! Store-and-forward packet FIFO in block RAM that drops whole frames.
//!
//! A frame is written speculatively and only becomes visible to the reader
//! when its last beat arrives. If the writer marks that last beat bad
//! (`s_bad` high with `tlast`), the write pointer rolls back to the frame's
//! start and the frame is gone as if it never came: no truncated or partial
//! frame ever leaves the FIFO. A frame that cannot fit even in the empty
//! FIFO is drained from the input and dropped the same way, so an oversize
//! frame never deadlocks the input. Both kinds of drop are counted.
//!
//! Data path: one beat per clock in and out across back-to-back frames. The
//! RAM's registered read feeds a two-entry output queue, so `m_axis` comes
//! straight from flip-flops and a stall downstream never loses a beat.
//!
//! A FIFO built [`PacketFifo::credited`] is for a writer with a fixed
//! pipeline in front of it: `s_room`, a register, says the writer may take
//! a beat now, and the FIFO takes every beat that lands (`s_axis.tready` is
//! always high), so the writer's pipeline registers move every cycle and
//! need no clock enable behind the FIFO's fill state (the TX input's did,
//! on a net of hundreds of sinks). `s_room` is worked out a cycle before
//! it is used, from the fill a cycle before that, so it leaves room for
//! `stages + 2` beats and frames: the beats taken before it can fall plus
//! the one taken in its cycle. A frame longer than the depth less that
//! margin is dropped as oversize (it could otherwise wait for room that
//! never comes); a beat that finds no room anyway, which the margin rules
//! out, drops its frame as an overflow, counted, never a partial frame.
//!
//! Metadata (`tuser`) is held per frame, not per beat, in a small FIFO of
//! `2^FW` entries (plus two in flip-flops at its output, so that its read
//! never waits on `m_axis.tready`): it bounds how many frames can be
//! waiting, not their size. Those two are a queue (a frame's end moves
//! the entry behind into the head) or, built [`PacketFifo::meta_ring`], a
//! ring (a frame's end moves a pointer).
//! By default it is taken from the frame's first beat, as the stream
//! convention says. A FIFO built with [`PacketFifo::with_tail_meta`] takes it
//! from the last beat instead: for a writer that works the descriptor out
//! while the frame streams in (the TX classifier), so nothing has to wait.
//!
//! ```text
//!  s_axis ─▶ [write: wr_ptr (speculative), commit_ptr] ─▶ BlockRam ─▶ [2-beat queue] ─▶ m_axis
//!             │ tlast & !s_bad: commit, push tuser            ▲ rd_ptr chases commit_ptr
//!             │ tlast &  s_bad: wr_ptr <= commit_ptr          │
//!             └─▶ meta FIFO (tuser per committed frame) ──────┴──────▶ m_axis.tuser
//! ```

use crate::block_ram::BlockRam;
use crate::stream::{Beat, StreamSink, StreamSource};
use rust_hdl::prelude::*;

/// Parameters: `M` metadata type; `AW` log2 of the depth in beats (`AWP1`
/// must be `AW + 1`, rust-hdl cannot compute it); `FW`/`FWP1` the same for
/// the number of committed frames the FIFO can hold.
#[derive(LogicBlock)]
pub struct PacketFifo<
    M: Synth,
    const AW: usize,
    const AWP1: usize,
    const FW: usize,
    const FWP1: usize,
> {
    pub clock: Signal<In, Clock>,
    /// Frames in.
    pub s_axis: StreamSink<M>,
    /// With the last beat of a frame: discard the whole frame.
    pub s_bad: Signal<In, Bit>,
    /// Frames out, whole and in order.
    pub m_axis: StreamSource<M>,
    /// The two metadata registers. In a FIFO built
    /// [`PacketFifo::meta_ring`], `m_axis.tuser` is `m_slot_a` until the
    /// first `tlast` beat is handed over, then the other slot after each:
    /// a reader that keeps a pointer of its own can pick a few bits of
    /// `tuser` without the ring's select, whose net is the mux's
    /// hundreds of bits. In the default queue, `m_slot_a` is always
    /// `tuser` and `m_slot_b` the entry behind it.
    pub m_slot_a: Signal<Out, M>,
    pub m_slot_b: Signal<Out, M>,
    /// Frames dropped because `s_bad` marked them (wraps at 2^32).
    pub dropped_bad: Signal<Out, Bits<32>>,
    /// Frames dropped because they are longer than the whole FIFO (wraps).
    pub dropped_oversize: Signal<Out, Bits<32>>,
    /// Frames dropped because the FIFO was full when a beat came, in a FIFO
    /// built [`PacketFifo::lossy`] (wraps; always 0 otherwise).
    pub dropped_overflow: Signal<Out, Bits<32>>,
    /// High for one cycle after each drop of either kind.
    pub drop_event: Signal<Out, Bit>,
    /// In a FIFO built [`PacketFifo::credited`]: the writer may take a beat
    /// this cycle (a register, or with a frame being discarded). High
    /// always in other FIFOs, whose writers use `s_axis.tready`.
    pub s_room: Signal<Out, Bit>,
    ram: BlockRam<Beat, AW>,
    meta: SynchronousFIFO<M, FW, FWP1, 1>,
    // Write side.
    wr_ptr: DFF<Bits<AWP1>>,
    commit_ptr: DFF<Bits<AWP1>>,
    in_frame: DFF<Bit>,
    dropping: DFF<Bit>,
    meta_hold: DFF<M>,
    bad_count: DFF<Bits<32>>,
    oversize_count: DFF<Bits<32>>,
    overflow_count: DFF<Bits<32>>,
    overflowed: DFF<Bit>,
    drop_flag: DFF<Bit>,
    /// `wr_ptr - rd_ptr == depth`, kept as a register so that `s_axis.tready`
    /// does not wait on a subtract and a compare.
    full_r: DFF<Bit>,
    /// `rd_ptr == commit_ptr` as of the cycle before, if neither moved then.
    drained_r: DFF<Bit>,
    /// Credited: the fill a cycle ago left the margin, and the frame being
    /// written has reached the depth less the margin (so it is oversize).
    room_r: DFF<Bit>,
    long_r: DFF<Bit>,
    /// Frames in the meta FIFO (its write address less its read address),
    /// and whether that is its depth: its own `full` is a compare of its
    /// address registers, which sat in front of `s_axis.tready`.
    meta_n: DFF<Bits<FWP1>>,
    meta_full_r: DFF<Bit>,
    // Read side.
    rd_ptr: DFF<Bits<AWP1>>,
    ram_valid: DFF<Bit>,
    a_valid: DFF<Bit>,
    a_beat: DFF<Beat>,
    b_valid: DFF<Bit>,
    b_beat: DFF<Beat>,
    // The meta FIFO's head and the entry behind it, in flip-flops. The FIFO
    // is read on these registers' state alone, never on `m_axis.tready`: its
    // read address feeds its RAM, and a frame end taken downstream would
    // otherwise run through that RAM into its read register in one cycle.
    ma_valid: DFF<Bit>,
    ma: DFF<M>,
    mb_valid: DFF<Bit>,
    mb: DFF<M>,
    /// In a FIFO built [`PacketFifo::meta_ring`], `ma` and `mb` are a
    /// two-slot ring instead: the head's slot, the slot the next entry
    /// goes to, and how many are full.
    m_hp: DFF<Bit>,
    m_wp: DFF<Bit>,
    m_n: DFF<Bits<2>>,
    ring_mode: Constant<Bit>,
    depth: Constant<Bits<AWP1>>,
    meta_depth: Constant<Bits<FWP1>>,
    meta_n_next: Signal<Local, Bits<FWP1>>,
    tail_meta: Constant<Bit>,
    lossy_mode: Constant<Bit>,
    credit_mode: Constant<Bit>,
    /// Credited: the most beats, and frames, held with room still given;
    /// and a frame's beats that make it oversize, less one.
    room_beats: Constant<Bits<AWP1>>,
    room_frames: Constant<Bits<FWP1>>,
    long_at: Constant<Bits<AWP1>>,
    frame_beats: Signal<Local, Bits<AWP1>>,
    no_room: Signal<Local, Bit>,
    used: Signal<Local, Bits<AWP1>>,
    full: Signal<Local, Bit>,
    almost_full: Signal<Local, Bit>,
    committed_full: Signal<Local, Bit>,
    rollback: Signal<Local, Bit>,
    hopeless: Signal<Local, Bit>,
    ready: Signal<Local, Bit>,
    accept: Signal<Local, Bit>,
    beat_in: Signal<Local, Beat>,
    pop: Signal<Local, Bit>,
    /// Ports that feed back through a neighbour's kernel are worked out in
    /// locals and driven once (docs/rust-hdl-notes.md, glitches).
    meta_write: Signal<Local, Bit>,
    tuser_out: Signal<Local, M>,
    out_valid: Signal<Local, Bit>,
    level: Signal<Local, Bits<2>>,
    issue: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    pop_frame: Signal<Local, Bit>,
}

impl<M: Synth, const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize> Default
    for PacketFifo<M, AW, AWP1, FW, FWP1>
{
    fn default() -> Self {
        assert_eq!(AWP1, AW + 1, "PacketFifo: AWP1 must be AW + 1");
        assert_eq!(FWP1, FW + 1, "PacketFifo: FWP1 must be FW + 1");
        assert!((2..=16).contains(&AW), "PacketFifo: AW {AW} outside 2..=16");
        assert!((1..=8).contains(&FW), "PacketFifo: FW {FW} outside 1..=8");
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            s_bad: Default::default(),
            m_axis: Default::default(),
            m_slot_a: Default::default(),
            m_slot_b: Default::default(),
            dropped_bad: Default::default(),
            dropped_oversize: Default::default(),
            dropped_overflow: Default::default(),
            drop_event: Default::default(),
            s_room: Default::default(),
            ram: Default::default(),
            meta: Default::default(),
            wr_ptr: Default::default(),
            commit_ptr: Default::default(),
            in_frame: Default::default(),
            dropping: Default::default(),
            meta_hold: Default::default(),
            bad_count: Default::default(),
            oversize_count: Default::default(),
            overflow_count: Default::default(),
            overflowed: Default::default(),
            drop_flag: Default::default(),
            full_r: Default::default(),
            drained_r: Default::default(),
            room_r: Default::default(),
            long_r: Default::default(),
            meta_n: Default::default(),
            meta_full_r: Default::default(),
            rd_ptr: Default::default(),
            ram_valid: Default::default(),
            a_valid: Default::default(),
            a_beat: Default::default(),
            b_valid: Default::default(),
            b_beat: Default::default(),
            ma_valid: Default::default(),
            ma: Default::default(),
            mb_valid: Default::default(),
            mb: Default::default(),
            m_hp: Default::default(),
            m_wp: Default::default(),
            m_n: Default::default(),
            ring_mode: Constant::new(false),
            depth: Constant::new((1u64 << AW).to_bits()),
            meta_depth: Constant::new((1u64 << FW).to_bits()),
            meta_n_next: Default::default(),
            tail_meta: Constant::new(false),
            lossy_mode: Constant::new(false),
            credit_mode: Constant::new(false),
            room_beats: Constant::new(0u64.to_bits()),
            room_frames: Constant::new(0u64.to_bits()),
            long_at: Constant::new(0u64.to_bits()),
            frame_beats: Default::default(),
            no_room: Default::default(),
            used: Default::default(),
            full: Default::default(),
            almost_full: Default::default(),
            committed_full: Default::default(),
            rollback: Default::default(),
            hopeless: Default::default(),
            ready: Default::default(),
            accept: Default::default(),
            beat_in: Default::default(),
            pop: Default::default(),
            meta_write: Default::default(),
            tuser_out: Default::default(),
            out_valid: Default::default(),
            level: Default::default(),
            issue: Default::default(),
            take: Default::default(),
            pop_frame: Default::default(),
        }
    }
}

impl<M: Synth, const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize>
    PacketFifo<M, AW, AWP1, FW, FWP1>
{
    /// A FIFO that stores each frame's `tuser` as it is on the frame's last
    /// beat (see the module docs).
    pub fn with_tail_meta() -> Self {
        Self {
            tail_meta: Constant::new(true),
            ..Default::default()
        }
    }

    /// A FIFO that never back-pressures its writer (`s_axis.tready` is
    /// always high), as a MAC's receive side needs: a frame that meets a
    /// full FIFO is dropped whole and counted in `dropped_overflow`.
    pub fn lossy(self) -> Self {
        Self {
            lossy_mode: Constant::new(true),
            ..self
        }
    }

    /// A FIFO whose writer takes beats on `s_room` and delivers each one
    /// `stages` cycles after taking it, without stalls (see the module
    /// docs). It passes frames of up to [`PacketFifo::credited_max_beats`]
    /// beats and drops longer ones as oversize.
    pub fn credited(self, stages: usize) -> Self {
        let margin = stages + 2;
        assert!(
            Self::DEPTH_BEATS >= 4 * margin,
            "PacketFifo::credited: {} beats leave too little past a margin of {margin}",
            Self::DEPTH_BEATS
        );
        assert!(
            (1usize << FW) >= margin + 2,
            "PacketFifo::credited: {} frame slots leave too little past a margin of {margin}",
            1usize << FW
        );
        Self {
            lossy_mode: Constant::new(true),
            credit_mode: Constant::new(true),
            room_beats: Constant::new(((Self::DEPTH_BEATS - margin) as u64).to_bits()),
            room_frames: Constant::new((((1usize << FW) - margin) as u64).to_bits()),
            long_at: Constant::new(((Self::DEPTH_BEATS - margin - 1) as u64).to_bits()),
            ..self
        }
    }

    /// A FIFO whose metadata head is a two-slot ring (`tuser` is a 2:1 mux
    /// of two registers by a head pointer) rather than a two-entry queue:
    /// a frame's end taken downstream then moves a pointer, not the
    /// `M`-bit head and the entry behind it, whose clock enables otherwise
    /// wait on `m_axis.tready` (the TX buffer's 700-bit descriptor, on the
    /// segmenter's `tready`). For a reader whose `tready` is later than its
    /// use of `tuser`.
    pub fn meta_ring(self) -> Self {
        Self {
            ring_mode: Constant::new(true),
            ..self
        }
    }

    /// The longest frame, in beats, a FIFO built
    /// [`PacketFifo::credited`]`(stages)` passes.
    pub const fn credited_max_beats(stages: usize) -> usize {
        Self::DEPTH_BEATS - stages - 2
    }

    /// Capacity in beats: the longest frame it can pass is `8 * depth` bytes.
    pub const DEPTH_BEATS: usize = 1 << AW;

    /// RAM read/write collisions seen in simulation (must stay zero).
    pub fn ram_collisions(&self) -> u64 {
        self.ram.collisions()
    }
}

impl<M: Synth, const AW: usize, const AWP1: usize, const FW: usize, const FWP1: usize> Logic
    for PacketFifo<M, AW, AWP1, FW, FWP1>
{
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            wr_ptr,
            commit_ptr,
            in_frame,
            dropping,
            meta_hold,
            bad_count,
            oversize_count,
            overflow_count,
            overflowed,
            drop_flag,
            full_r,
            drained_r,
            room_r,
            long_r,
            meta_n,
            meta_full_r,
            rd_ptr,
            ram_valid,
            a_valid,
            a_beat,
            b_valid,
            b_beat,
            ma_valid,
            ma,
            mb_valid,
            mb,
            m_hp,
            m_wp,
            m_n
        );
        clock!(self, clock, ram, meta);
        self.dropped_bad.next = self.bad_count.q.val();
        self.dropped_oversize.next = self.oversize_count.q.val();
        self.dropped_overflow.next = self.overflow_count.q.val();
        self.drop_event.next = self.drop_flag.q.val();
        self.drop_flag.d.next = false;

        // ---- Write side ----
        self.full.next = self.full_r.q.val();
        self.used.next = self.wr_ptr.q.val() - self.rd_ptr.q.val();
        self.almost_full.next = self.used.val() == (self.depth.val() - 1);
        self.committed_full.next =
            (self.commit_ptr.q.val() - self.rd_ptr.q.val()) == self.depth.val();
        self.rollback.next = false;
        // Full, and everything in the RAM is the frame being written: it can
        // never fit, so waiting would deadlock. Drain it instead.
        // `rd_ptr == commit_ptr` comes from a register, exact after a cycle
        // in which neither pointer moved and false otherwise: once the
        // state is hopeless neither can move, so it is seen a cycle late at
        // worst, and never wrongly. (The compare and its fanout into
        // `s_axis.tready` were the writer's clock enables' longest path.)
        self.hopeless.next = self.full.val() & self.in_frame.q.val() & self.drained_r.q.val();
        // Credited: the frame being written already holds the depth less
        // the margin in beats and has not ended, so it is oversize (and it
        // is dropped when its next beat comes).
        if self.in_frame.q.val() & self.long_r.q.val() {
            self.hopeless.next = true;
        }
        self.frame_beats.next = self.wr_ptr.q.val() - self.commit_ptr.q.val();
        self.room_r.d.next = self.credit_mode.val()
            & (self.used.val() <= self.room_beats.val())
            & (self.meta_n.q.val() <= self.room_frames.val());
        self.s_room.next = self.room_r.q.val()
            | self.dropping.q.val()
            | self.hopeless.val()
            | !self.credit_mode.val();
        self.drained_r.d.next = self.rd_ptr.q.val() == self.commit_ptr.q.val();
        // Depends on state only, never on tvalid.
        self.no_room.next = self.full.val() | self.meta_full_r.q.val();
        self.ready.next = self.dropping.q.val()
            | self.hopeless.val()
            | !self.no_room.val()
            | self.lossy_mode.val();
        self.s_axis.tready.next = self.ready.val();
        self.accept.next = self.s_axis.tvalid.val() & self.ready.val();
        self.beat_in.next.data = self.s_axis.tdata.val();
        self.beat_in.next.keep = self.s_axis.tkeep.val();
        self.beat_in.next.last = self.s_axis.tlast.val();
        self.ram.write_address.next = bit_cast::<AW, AWP1>(self.wr_ptr.q.val());
        self.ram.write_data.next = self.beat_in.val();
        self.ram.write_enable.next = false;
        self.meta_write.next = false;
        self.meta.data_in.next = self.meta_hold.q.val();
        if (!self.in_frame.q.val()) | self.tail_meta.val() {
            self.meta.data_in.next = self.s_axis.tuser.val();
        }
        if self.accept.val() {
            self.in_frame.d.next = !self.s_axis.tlast.val();
            if !self.in_frame.q.val() {
                self.meta_hold.d.next = self.s_axis.tuser.val();
            }
            if self.dropping.q.val()
                | self.hopeless.val()
                | (self.lossy_mode.val() & self.no_room.val())
            {
                // Oversize or (lossy) no room: discard until the frame's
                // end, holding nothing.
                self.wr_ptr.d.next = self.commit_ptr.q.val();
                self.rollback.next = true;
                self.dropping.d.next = !self.s_axis.tlast.val();
                self.long_r.d.next = false;
                self.overflowed.d.next = !self.s_axis.tlast.val()
                    & (self.overflowed.q.val() | (!self.dropping.q.val() & !self.hopeless.val()));
                if self.s_axis.tlast.val() {
                    if self.overflowed.q.val() | (!self.dropping.q.val() & !self.hopeless.val()) {
                        self.overflow_count.d.next = self.overflow_count.q.val() + 1;
                    } else {
                        self.oversize_count.d.next = self.oversize_count.q.val() + 1;
                    }
                    self.drop_flag.d.next = true;
                }
            } else {
                self.ram.write_enable.next = true;
                self.wr_ptr.d.next = self.wr_ptr.q.val() + 1;
                if self.credit_mode.val() & (self.frame_beats.val() == self.long_at.val()) {
                    self.long_r.d.next = true;
                }
                if self.s_axis.tlast.val() {
                    self.long_r.d.next = false;
                    if self.s_bad.val() {
                        self.wr_ptr.d.next = self.commit_ptr.q.val();
                        self.rollback.next = true;
                        self.bad_count.d.next = self.bad_count.q.val() + 1;
                        self.drop_flag.d.next = true;
                    } else {
                        self.commit_ptr.d.next = self.wr_ptr.q.val() + 1;
                        self.drained_r.d.next = false;
                        self.meta_write.next = true;
                    }
                }
            }
        }

        // ---- Read side ----
        // A two-entry queue (a = head, drives m_axis; b = behind it) fed by
        // the RAM's registered read. A read is issued only when its beat is
        // sure to have a slot when it lands next cycle.
        self.out_valid.next = self.a_valid.q.val() & self.ma_valid.q.val();
        if self.ring_mode.val() {
            self.out_valid.next = self.a_valid.q.val() & (self.m_n.q.val() != 0);
        }
        self.m_axis.tvalid.next = self.out_valid.val();
        self.m_axis.tdata.next = self.a_beat.q.val().data;
        self.m_axis.tkeep.next = self.a_beat.q.val().keep;
        self.m_axis.tlast.next = self.a_beat.q.val().last;
        // Straight from the register, not gated by tvalid: tuser feeds the
        // reader's per-frame sums (the TSO segmenter's), and a gate would
        // put the valid logic in front of them. Between frames it holds the
        // last frame's (zero before the first), never undefined RAM.
        self.tuser_out.next = self.ma.q.val();
        if self.ring_mode.val() & self.m_hp.q.val() {
            self.tuser_out.next = self.mb.q.val();
        }
        self.m_axis.tuser.next = self.tuser_out.val();
        self.m_slot_a.next = self.ma.q.val();
        self.m_slot_b.next = self.mb.q.val();
        self.meta.write.next = self.meta_write.val();
        self.pop.next = self.out_valid.val() & self.m_axis.tready.val();
        // Metadata: a two-entry queue (ma = head, mb = behind it) that takes
        // the meta FIFO's head whenever mb is free.
        self.pop_frame.next = self.pop.val() & self.a_beat.q.val().last;
        self.take.next = !self.meta.empty.val() & !self.mb_valid.q.val();
        if self.ring_mode.val() {
            self.take.next = !self.meta.empty.val() & (self.m_n.q.val() != 2);
        }
        self.meta.read.next = self.take.val();
        // A write happens only with room (`no_room` holds `s_axis` or, in
        // a lossy FIFO, drops the frame), a read only when not empty.
        self.meta_n_next.next = self.meta_n.q.val();
        if self.meta_write.val() & !self.take.val() {
            self.meta_n_next.next = self.meta_n.q.val() + 1;
        }
        if !self.meta_write.val() & self.take.val() {
            self.meta_n_next.next = self.meta_n.q.val() - 1;
        }
        self.meta_n.d.next = self.meta_n_next.val();
        self.meta_full_r.d.next = self.meta_n_next.val() == self.meta_depth.val();
        if self.ring_mode.val() {
            // Each slot loads on `take` alone, which waits on no reader.
            if self.take.val() {
                self.m_wp.d.next = !self.m_wp.q.val();
                if self.m_wp.q.val() {
                    self.mb.d.next = self.meta.data_out.val();
                } else {
                    self.ma.d.next = self.meta.data_out.val();
                }
            }
            if self.pop_frame.val() {
                self.m_hp.d.next = !self.m_hp.q.val();
            }
            if self.take.val() & !self.pop_frame.val() {
                self.m_n.d.next = self.m_n.q.val() + 1;
            }
            if !self.take.val() & self.pop_frame.val() {
                self.m_n.d.next = self.m_n.q.val() - 1;
            }
        } else if self.pop_frame.val() {
            // take implies !mb_valid, so the FIFO's head lands in ma.
            self.ma_valid.d.next = self.mb_valid.q.val() | self.take.val();
            self.ma.d.next = self.mb.q.val();
            if self.take.val() {
                self.ma.d.next = self.meta.data_out.val();
            }
            self.mb_valid.d.next = false;
        } else if self.take.val() {
            if self.ma_valid.q.val() {
                self.mb_valid.d.next = true;
                self.mb.d.next = self.meta.data_out.val();
            } else {
                self.ma_valid.d.next = true;
                self.ma.d.next = self.meta.data_out.val();
            }
        }
        self.level.next = 0.into();
        if self.a_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        if self.b_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        if self.ram_valid.q.val() {
            self.level.next = self.level.val() + 1;
        }
        self.issue.next = (self.rd_ptr.q.val() != self.commit_ptr.q.val())
            & ((self.level.val() < 2) | ((self.level.val() == 2) & self.pop.val()));
        self.ram.read_address.next = bit_cast::<AW, AWP1>(self.rd_ptr.q.val());
        self.ram.read_enable.next = self.issue.val();
        self.ram_valid.d.next = self.issue.val();
        if self.issue.val() {
            self.rd_ptr.d.next = self.rd_ptr.q.val() + 1;
            self.drained_r.d.next = false;
        }
        // wr_ptr - rd_ptr next cycle, from this cycle's one-bit moves: a
        // write adds one, a read takes one, a roll back leaves the
        // committed frames less the read.
        if self.rollback.val() {
            self.full_r.d.next = self.committed_full.val() & !self.issue.val();
        } else if self.ram.write_enable.val() & !self.issue.val() {
            self.full_r.d.next = self.full.val() | self.almost_full.val();
        } else if self.issue.val() & !self.ram.write_enable.val() {
            self.full_r.d.next = false;
        }
        if self.pop.val() {
            // Advance the queue; the landing RAM word takes the first free slot.
            self.a_valid.d.next = self.b_valid.q.val();
            self.a_beat.d.next = self.b_beat.q.val();
            self.b_valid.d.next = false;
            if self.ram_valid.q.val() {
                if self.b_valid.q.val() {
                    self.b_valid.d.next = true;
                    self.b_beat.d.next = self.ram.read_data.val();
                } else {
                    self.a_valid.d.next = true;
                    self.a_beat.d.next = self.ram.read_data.val();
                }
            }
        } else if self.ram_valid.q.val() {
            if self.a_valid.q.val() {
                self.b_valid.d.next = true;
                self.b_beat.d.next = self.ram.read_data.val();
            } else {
                self.a_valid.d.next = true;
                self.a_beat.d.next = self.ram.read_data.val();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_fifo_is_synthesizable() {
        let mut uut = PacketFifo::<Bits<16>, 6, 7, 3, 4>::default();
        uut.connect_all();
        yosys_validate("packet_fifo", &generate_verilog(&uut)).unwrap();
    }
}
