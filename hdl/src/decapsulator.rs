//! RX decapsulator: strips a frame's outer header (0, or 50, 54 and more
//! bytes with outer IPv4 options, as its descriptor says) while it streams and hands the rest to every host
//! function in the descriptor's `dest` mask (`docs/rx-path.md` section 5).
//!
//! A strip of `8 W + s` bytes (`W` = 6 and `s` = 2 or 6 for 50 and 54,
//! more beats with outer IPv4 options; `W` = `s` = 0 for none) skips `W` whole input beats and shifts the rest
//! down by `s` lanes. Input beat `W` is only remembered (its lanes `s..8`,
//! moved to lanes `0..8-s`, in `hold`); every later input beat completes
//! one output beat with its lanes `0..s` and leaves its own lanes `s..8` in
//! `hold`. A frame's last input beat with bytes at lanes `>= s` leaves a
//! final partial beat in `hold`, sent in the next cycle (the flush). Strip 0
//! goes through the same one-beat delay, so all frames behave alike.
//!
//! ```text
//!  in beat   |  0 .. W-1  |   W    |  W+1       |  W+2       | ... | last (L)        | next frame's 0
//!  out beat  |  (header)  |   -    |  0 = W[s..8] W+1[0..s] | 1 | ... | L-W-1       | flush: L[s..8]
//! ```
//!
//! Line rate: with every selected output ready the input moves one beat
//! every cycle across back-to-back frames of any length and strip. The
//! flush of a frame goes out while the next frame's first beat is taken,
//! and that beat never makes output by itself (it is a header beat, or for
//! strip 0 it only fills `hold`). The output has bubbles (it is shorter than
//! the input); the input has none.
//!
//! Broadcast, as verilog-ethernet's `axis_broadcast`: one shared output
//! register (`tdata`/`tkeep`/`tlast`/`tuser`) and one registered `tvalid` per
//! output port, never dependent on that port's own `tready`. A new beat is
//! loaded only when every port still holding a beat hands it over in this
//! cycle (`room`), with `tvalid` set on the frame's selected ports only;
//! other ports see nothing. `s_axis.tready` is combinational from the ports'
//! `tready`, the beat's descriptor and the state (never from `s_axis.tvalid`):
//! header beats and frames going nowhere are always taken, beat `W` waits
//! only for a pending flush to leave, and beats that complete an output beat
//! wait for `room`.
//!
//! A frame is discarded at full input rate, with nothing on any output, when
//! its `dest` (masked to the `NF` functions) is 0, when nothing is left after
//! stripping (length `<=` strip), or when its strip is not one it can do
//! (`s` other than 0, 2 or 6, or `W` of 15 and more: the classifier never
//! asks for those).
//! Every delivered frame has at least one byte, `tkeep` contiguous from lane
//! 0 and partial only on its `tlast` beat. The last input beat's `tkeep` is
//! read as its longest contiguous run from lane 0; earlier beats are taken
//! as full whatever their `tkeep`. `tuser` must be stable on every beat of a
//! frame (the RX buffer's contract): it is read on every beat.
//!
//! Per frame, in the cycle after its last input beat was taken (one cycle
//! pulse of `frame_done`): `frame_dest` = functions that got a copy (0 if
//! none), `frame_length` = input length minus the stripped bytes (0 if
//! nothing was left; computed even when `dest` is 0; 16 bits, wrapping), and
//! `frame_decap` = the descriptor's `decap`.
//!
//! Latency (outputs ready): the first output beat of a frame is on the
//! ports 2 cycles after the frame's input beat `W` was taken (8 cycles after
//! its first beat for a 50/54-byte strip taken back to back, 2 for strip 0).

use crate::rx_types::{RxDescriptor, RxMeta};
use crate::stream::{StreamSink, StreamSource};
use rust_hdl::prelude::*;

/// Host functions in the default build: the PF and 4 VFs.
pub const DEFAULT_FUNCTIONS: usize = 5;

/// `NF` output ports (functions), 1..=16.
#[derive(LogicBlock)]
pub struct Decapsulator<const NF: usize> {
    pub clock: Signal<In, Clock>,
    /// Frames from the RX packet buffer. `tuser` (RxDescriptor) is valid and
    /// stable on every beat of a frame.
    pub s_axis: StreamSink<RxDescriptor>,
    /// One stream per host function (0 = PF, 1 + i = VF i); tuser = RxMeta
    /// valid with the first beat (and held on every beat of the frame).
    pub m_host: [StreamSource<RxMeta>; NF],
    /// High for one cycle when a frame has been fully handed to its outputs
    /// (last input beat consumed)...
    pub frame_done: Signal<Out, Bit>,
    /// ...with its destination mask (bit f = function f got a copy; 0 if
    /// nothing was delivered)
    pub frame_dest: Signal<Out, Bits<16>>,
    /// ...its delivered length in bytes (input length minus stripped bytes)
    pub frame_length: Signal<Out, Bits<16>>,
    /// ...and its decap flag.
    pub frame_decap: Signal<Out, Bit>,
    // ---- Input side ----
    /// Input beats of the current frame taken so far, saturating at 7.
    idx: DFF<Bits<4>>,
    /// Bytes of the current frame taken so far (full beats).
    acc: DFF<Bits<16>>,
    /// The previous input beat's lanes `s..8`, in lanes `0..8-s`.
    hold: DFF<Bits<64>>,
    /// `hold` is a frame's final partial beat, to be sent ...
    flush: DFF<Bit>,
    /// ... with this `tkeep`, ...
    fkeep: DFF<Bits<8>>,
    /// ... to these ports, ...
    fsel: DFF<Bits<NF>>,
    /// ... with this metadata.
    fmeta: DFF<RxMeta>,
    // ---- Output side: shared beat, one tvalid per port ----
    out_valid: DFF<Bits<NF>>,
    out_data: DFF<Bits<64>>,
    out_keep: DFF<Bits<8>>,
    out_last: DFF<Bit>,
    out_user: DFF<RxMeta>,
    // ---- Per-frame report ----
    done: DFF<Bit>,
    done_dest: DFF<Bits<16>>,
    done_length: DFF<Bits<16>>,
    done_decap: DFF<Bit>,
    // ---- Computed every cycle ----
    /// Every port holding a beat hands it over this cycle.
    room: Signal<Local, Bit>,
    ready: Signal<Local, Bit>,
    /// The pending flush leaves this cycle.
    flush_go: Signal<Local, Bit>,
    /// The strip as whole beats `W` and a lane shift `s`.
    wbeats: Signal<Local, Bits<8>>,
    shift: Signal<Local, Bits<3>>,
    /// The strip is one the block can do (s = 0, 2 or 6, W < 15).
    strip_ok: Signal<Local, Bit>,
    idx8: Signal<Local, Bits<8>>,
    dest: Signal<Local, Bits<16>>,
    /// The beat's frame goes to these ports (0: discarded).
    sel: Signal<Local, Bits<NF>>,
    sel16: Signal<Local, Bits<16>>,
    any: Signal<Local, Bit>,
    meta: Signal<Local, RxMeta>,
    /// The beat is input beat `W` / a later one.
    at_w: Signal<Local, Bit>,
    past_w: Signal<Local, Bit>,
    /// The beat completes an output beat / writes `hold`.
    produce: Signal<Local, Bit>,
    keeps: Signal<Local, Bit>,
    take: Signal<Local, Bit>,
    /// `tkeep` as used: all ones on a beat that is not last, else its
    /// contiguous run from lane 0.
    kc: Signal<Local, Bits<8>>,
    run: Signal<Local, Bit>,
    /// Bytes in the beat.
    nb: Signal<Local, Bits<4>>,
    /// Per strip code: the completed output beat, its `tkeep`, the beat has
    /// bytes at lanes `>= s`, the next `hold`, the flush's `tkeep`.
    beat: Signal<Local, Bits<64>>,
    beat_keep: Signal<Local, Bits<8>>,
    tail_bytes: Signal<Local, Bit>,
    next_hold: Signal<Local, Bits<64>>,
    tail_keep: Signal<Local, Bits<8>>,
    strip_bytes: Signal<Local, Bits<16>>,
    total: Signal<Local, Bits<16>>,
    /// Something is left of the frame after stripping (at its last beat).
    remains: Signal<Local, Bit>,
    valid_next: Signal<Local, Bits<NF>>,
}

impl<const NF: usize> Default for Decapsulator<NF> {
    fn default() -> Self {
        assert!(
            (1..=16).contains(&NF),
            "Decapsulator: NF {NF} outside 1..=16"
        );
        Self {
            clock: Default::default(),
            s_axis: Default::default(),
            m_host: std::array::from_fn(|_| Default::default()),
            frame_done: Default::default(),
            frame_dest: Default::default(),
            frame_length: Default::default(),
            frame_decap: Default::default(),
            idx: Default::default(),
            acc: Default::default(),
            hold: Default::default(),
            flush: Default::default(),
            fkeep: Default::default(),
            fsel: Default::default(),
            fmeta: Default::default(),
            out_valid: Default::default(),
            out_data: Default::default(),
            out_keep: Default::default(),
            out_last: Default::default(),
            out_user: Default::default(),
            done: Default::default(),
            done_dest: Default::default(),
            done_length: Default::default(),
            done_decap: Default::default(),
            room: Default::default(),
            ready: Default::default(),
            flush_go: Default::default(),
            wbeats: Default::default(),
            shift: Default::default(),
            strip_ok: Default::default(),
            idx8: Default::default(),
            dest: Default::default(),
            sel: Default::default(),
            sel16: Default::default(),
            any: Default::default(),
            meta: Default::default(),
            at_w: Default::default(),
            past_w: Default::default(),
            produce: Default::default(),
            keeps: Default::default(),
            take: Default::default(),
            kc: Default::default(),
            run: Default::default(),
            nb: Default::default(),
            beat: Default::default(),
            beat_keep: Default::default(),
            tail_bytes: Default::default(),
            next_hold: Default::default(),
            tail_keep: Default::default(),
            strip_bytes: Default::default(),
            total: Default::default(),
            remains: Default::default(),
            valid_next: Default::default(),
        }
    }
}

impl<const NF: usize> Logic for Decapsulator<NF> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            idx,
            acc,
            hold,
            flush,
            fkeep,
            fsel,
            fmeta,
            out_valid,
            out_data,
            out_keep,
            out_last,
            out_user,
            done,
            done_dest,
            done_length,
            done_decap
        );
        self.done.d.next = false;
        self.frame_done.next = self.done.q.val();
        self.frame_dest.next = self.done_dest.q.val();
        self.frame_length.next = self.done_length.q.val();
        self.frame_decap.next = self.done_decap.q.val();

        // ---- Output ports and room ----
        self.room.next = true;
        self.valid_next.next = self.out_valid.q.val();
        for i in 0..NF {
            self.m_host[i].tvalid.next = self.out_valid.q.val().get_bit(i);
            self.m_host[i].tdata.next = self.out_data.q.val();
            self.m_host[i].tkeep.next = self.out_keep.q.val();
            self.m_host[i].tlast.next = self.out_last.q.val();
            self.m_host[i].tuser.next = self.out_user.q.val();
            if self.m_host[i].tready.val() {
                self.valid_next.next = self.valid_next.val().replace_bit(i, false);
            } else if self.out_valid.q.val().get_bit(i) {
                self.room.next = false;
            }
        }
        self.flush_go.next = self.flush.q.val() & self.room.val();

        // ---- The offered beat's descriptor ----
        self.strip_bytes.next = bit_cast::<16, 8>(self.s_axis.tuser.val().strip);
        self.wbeats.next = self.s_axis.tuser.val().strip >> 3;
        self.shift.next = self.strip_bytes.val().get_bits::<3>(0);
        self.strip_ok.next =
            ((self.shift.val() == 0) | (self.shift.val() == 2) | (self.shift.val() == 6))
                & (self.wbeats.val() < 15);
        self.dest.next = self.s_axis.tuser.val().dest;
        self.sel.next = 0.into();
        self.sel16.next = 0.into();
        if self.strip_ok.val() {
            for i in 0..NF {
                self.sel.next = self.sel.val().replace_bit(i, self.dest.val().get_bit(i));
                self.sel16.next = self.sel16.val().replace_bit(i, self.dest.val().get_bit(i));
            }
        }
        self.any.next = self.sel16.val().any();
        self.meta.next.decap = self.s_axis.tuser.val().decap;
        self.meta.next.vni = self.s_axis.tuser.val().vni;
        self.meta.next.src_vtep_ip = self.s_axis.tuser.val().src_vtep_ip;
        self.meta.next.vlan_valid = self.s_axis.tuser.val().vlan_valid;
        self.meta.next.vlan = self.s_axis.tuser.val().vlan;
        self.meta.next.ip_csum = self.s_axis.tuser.val().ip_csum;
        self.meta.next.l4_csum = self.s_axis.tuser.val().l4_csum;
        self.meta.next.learn = self.s_axis.tuser.val().learn;

        // ---- Where the beat is in its frame ----
        self.idx8.next = bit_cast::<8, 4>(self.idx.q.val());
        self.at_w.next = self.idx8.val() == self.wbeats.val();
        self.past_w.next = self.idx8.val() > self.wbeats.val();
        self.produce.next = self.any.val() & self.past_w.val();
        self.keeps.next = self.any.val() & (self.at_w.val() | self.past_w.val());

        // ---- The beat's bytes ----
        self.kc.next = 255.into();
        self.run.next = true;
        if self.s_axis.tlast.val() {
            for i in 0..8 {
                self.run.next = self.run.val() & self.s_axis.tkeep.val().get_bit(i);
                self.kc.next = self.kc.val().replace_bit(i, self.run.val());
            }
        }
        self.nb.next = 0.into();
        for i in 0..8 {
            if self.kc.val().get_bit(i) {
                self.nb.next = self.nb.val() + 1;
            }
        }
        match self.shift.val().index() {
            2 => {
                // s = 2 (50 bytes, or 58, 66, ... with outer IPv4 options).
                self.beat.next = self.hold.q.val() | (self.s_axis.tdata.val() << 48);
                self.beat_keep.next = (self.kc.val() << 6) | 63;
                self.tail_bytes.next = self.kc.val().get_bit(2);
                self.next_hold.next = self.s_axis.tdata.val() >> 16;
                self.tail_keep.next = self.kc.val() >> 2;
            }
            6 => {
                // s = 6 (54 bytes with an outer tag, 62, ...).
                self.beat.next = self.hold.q.val() | (self.s_axis.tdata.val() << 16);
                self.beat_keep.next = (self.kc.val() << 2) | 3;
                self.tail_bytes.next = self.kc.val().get_bit(6);
                self.next_hold.next = self.s_axis.tdata.val() >> 48;
                self.tail_keep.next = self.kc.val() >> 6;
            }
            _ => {
                // s = 0 (nothing stripped; other shifts are never delivered).
                self.beat.next = self.hold.q.val();
                self.beat_keep.next = 255.into();
                self.tail_bytes.next = self.kc.val().get_bit(0);
                self.next_hold.next = self.s_axis.tdata.val();
                self.tail_keep.next = self.kc.val();
            }
        }
        self.total.next = self.acc.q.val() + bit_cast::<16, 4>(self.nb.val());
        self.remains.next =
            self.strip_ok.val() & (self.past_w.val() | (self.at_w.val() & self.tail_bytes.val()));

        // ---- Handshake: header beats and discarded frames always move;
        // beat W waits for a pending flush to leave; later beats of a
        // delivered frame wait for room. ----
        // Worked out in a local and driven once: a port assigned twice in
        // one kernel glitches in event-driven Verilog simulators, and with
        // the FIFO's `tuser` feeding back through this block iverilog would
        // never settle (docs/rust-hdl-notes.md).
        self.ready.next = true;
        if self.produce.val() {
            self.ready.next = self.room.val() & !self.flush.q.val();
        } else if self.keeps.val() {
            self.ready.next = !self.flush.q.val() | self.room.val();
        }
        self.s_axis.tready.next = self.ready.val();
        self.take.next = self.s_axis.tvalid.val() & self.ready.val();

        // ---- Output register: the flush, or a completed beat ----
        if self.flush_go.val() {
            self.valid_next.next = self.fsel.q.val();
            self.out_data.d.next = self.hold.q.val();
            self.out_keep.d.next = self.fkeep.q.val();
            self.out_last.d.next = true;
            self.out_user.d.next = self.fmeta.q.val();
            self.flush.d.next = false;
        }
        if self.take.val() & self.produce.val() {
            self.valid_next.next = self.sel.val();
            self.out_data.d.next = self.beat.val();
            self.out_keep.d.next = 255.into();
            self.out_last.d.next = false;
            if self.s_axis.tlast.val() & !self.tail_bytes.val() {
                self.out_keep.d.next = self.beat_keep.val();
                self.out_last.d.next = true;
            }
            self.out_user.d.next = self.fmeta.q.val();
        }
        self.out_valid.d.next = self.valid_next.val();

        // ---- Input state ----
        if self.take.val() {
            if self.keeps.val() {
                // (Only when no flush is pending, or it leaves now.)
                self.hold.d.next = self.next_hold.val();
                self.fsel.d.next = self.sel.val();
                self.fmeta.d.next = self.meta.val();
                if self.s_axis.tlast.val() {
                    self.flush.d.next = self.tail_bytes.val();
                    self.fkeep.d.next = self.tail_keep.val();
                }
            }
            if self.s_axis.tlast.val() {
                self.idx.d.next = 0.into();
                self.acc.d.next = 0.into();
                self.done.d.next = true;
                self.done_dest.d.next = 0.into();
                self.done_length.d.next = 0.into();
                if self.remains.val() {
                    self.done_dest.d.next = self.sel16.val();
                    self.done_length.d.next = self.total.val() - self.strip_bytes.val();
                }
                self.done_decap.d.next = self.s_axis.tuser.val().decap;
            } else {
                self.acc.d.next = self.acc.q.val() + 8;
                if self.idx.q.val() != 15 {
                    self.idx.d.next = self.idx.q.val() + 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decapsulator_is_synthesizable() {
        let mut uut = Decapsulator::<DEFAULT_FUNCTIONS>::default();
        uut.connect_all();
        let vlog = generate_verilog(&uut);
        yosys_validate("decapsulator", &vlog).unwrap();
    }

    #[test]
    fn decapsulator_sizes_are_synthesizable() {
        let mut one = Decapsulator::<1>::default();
        one.connect_all();
        yosys_validate("decapsulator_1", &generate_verilog(&one)).unwrap();
        let mut sixteen = Decapsulator::<16>::default();
        sixteen.connect_all();
        yosys_validate("decapsulator_16", &generate_verilog(&sixteen)).unwrap();
    }
}
